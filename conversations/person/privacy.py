"""The person's control over their data: /mydata, /forget and /clear.

/mydata shows what is held, decrypted, to the person alone. /forget asks once, then
crypto-shreds: rows, the data key and pending notifications go in one transaction, and
the person is told what went and how long backups take. /clear deletes the chat's recent
messages (Telegram allows that for 48 hours) for someone on a shared phone; it changes
nothing we keep.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CommandHandler, filters

from conversations import keyboards, texts
from conversations.common import event
from conversations.context import Context
from conversations.flow import FlowFn, Outcome, Reply, buttons, callback_parts, command, stale
from conversations.person import ask_mentor
from conversations.person.disclosure import summary
from conversations.steps import Step
from storage.directory import office_by_id
from storage.repositories.people import PersonRecord, PersonTransaction

CLEAR_SPAN = 500  # message ids looked back over; Telegram skips what it won't delete


def forget_keyboard() -> InlineKeyboardMarkup:
    return keyboards.rows(
        [
            keyboards.button(texts.BTN_FORGET_YES, "p:forget:yes"),
            keyboards.button(texts.BTN_FORGET_NO, "p:forget:no"),
        ]
    )


def office_name(office_id: str) -> str:
    office = office_by_id(office_id, include_unoffered=True)
    return office.name if office is not None else office_id


async def my_data(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    assert tx.person is not None
    answers = await tx.disclosures()
    referrals = await tx.referrals()
    replies = [Reply(texts.MYDATA_HEADER), Reply(texts.MYDATA_ALWAYS)]
    office_id = tx.person.draft.get("office")
    if isinstance(office_id, str):
        replies.append(Reply(texts.MYDATA_OFFICE.format(office=office_name(office_id))))
    if answers:
        replies.append(Reply(texts.MYDATA_ANSWERS.format(summary=summary(answers))))
    else:
        replies.append(Reply(texts.MYDATA_NO_ANSWERS))
    if referrals:
        lines = "\n".join(
            texts.MYDATA_REFERRAL_LINE.format(
                ref=ref, office=office_name(office_id), status=texts.REFERRAL_STATUS[status]
            )
            for ref, office_id, status in referrals
        )
        replies.append(Reply(texts.MYDATA_REFERRALS.format(lines=lines)))
    replies.append(
        Reply(
            texts.MYDATA_FOOTER,
            keyboards.rows(
                [
                    keyboards.button(texts.BTN_FORGET, "p:forget:ask"),
                    keyboards.button(texts.BTN_MENU, "menu:show"),
                ]
            ),
        )
    )
    event("privacy.mydata")
    return Outcome(replies=replies)


async def ask_forget(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """/forget: one confirmation first (nothing is wiped by a single stray tap)."""
    if tx.person is None:
        return Outcome.say(texts.FORGET_NOTHING)
    await tx.move(Step.FORGET_CONFIRM)
    return Outcome.say(Reply(texts.FORGET_ASK, forget_keyboard()))


async def on_forget_button(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    parts = callback_parts(update)
    action = parts[2] if len(parts) > 2 else ""
    person = tx.person
    if person is None:
        return Outcome.say(texts.FORGET_NOTHING)
    if action == "ask":
        return await ask_forget(update, context, tx)
    if person.state != Step.FORGET_CONFIRM:
        return stale(person)
    if action == "no":
        await tx.move(Step.MENU)
        return Outcome.say(Reply(texts.FORGET_KEPT, keyboards.main_menu()))
    if action != "yes":
        return stale(person)
    erased = await ask_mentor.forget(context, tx)  # also tells a mentor it ended
    event("privacy.forget")
    return Outcome.say(
        texts.FORGET_DONE.format(
            disclosures=erased.disclosures,
            referrals=erased.referrals_withdrawn,
            cancelled=erased.notifications_cancelled,
            backup_days=context.services.settings.backup_erasure_days,
            main_backup_days=context.services.settings.backup_main_days,
        )
    )


async def clear_chat(update: Update, context: Context) -> None:
    """Delete this chat's recent messages (both sides: allowed in private chats)."""
    message = update.message
    if message is None:
        return
    newest = message.message_id
    ids = list(range(max(1, newest - CLEAR_SPAN), newest + 1))
    for start in range(0, len(ids), 100):
        try:
            await context.bot.delete_messages(message.chat.id, ids[start : start + 100])
        except BadRequest:
            continue  # none in this batch could be deleted
    event("privacy.clear")
    await context.bot.send_message(
        message.chat.id, texts.CLEAR_DONE, reply_markup=keyboards.back_to_menu()
    )


def prompt_forget(person: PersonRecord) -> list[Reply]:
    return [Reply(texts.FORGET_ASK, forget_keyboard())]


ENTRY_MYDATA: FlowFn = my_data
PROMPTS = {Step.FORGET_CONFIRM: prompt_forget}


def build_privacy_handlers() -> list[BaseHandler[Update, Context, None]]:
    return [
        command("mydata", my_data),
        command("forget", ask_forget, needs_person=False),
        CommandHandler("clear", clear_chat, filters=filters.ChatType.PRIVATE),
        buttons("p", on_forget_button, needs_person=False),
    ]
