"""The person's control over their data: /mydata, /forget and /clear.

/mydata shows what is held, decrypted, to the person alone. /forget asks once, then
crypto-shreds: rows, the data key and pending notifications go in one transaction, and
the person is told what went and how long backups take. /clear deletes the chat's recent
messages (Telegram allows that for 48 hours) for someone on a shared phone; it changes
nothing we keep.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler, filters

from conversations import keyboards, texts
from conversations.callbacks import Button, Family, Forget, ForgetAction, MenuChoice
from conversations.common import event
from conversations.context import Context
from conversations.i18n import _
from conversations.outcome import Outcome, Reply, deliver
from conversations.person import live_request
from conversations.person.disclosure import summary
from conversations.registry import Anyone, Flow, stale
from conversations.steps import Step
from storage.directory import office_by_id
from storage.repositories.people import PersonTransaction

CLEAR_SPAN = 500  # message ids looked back over; Telegram skips what it won't delete


def forget_keyboard() -> InlineKeyboardMarkup:
    return keyboards.rows(
        [
            keyboards.button(_(texts.BTN_FORGET_YES), Forget(ForgetAction.YES)),
            keyboards.button(_(texts.BTN_FORGET_NO), Forget(ForgetAction.NO)),
        ]
    )


def office_name(office_id: str) -> str:
    office = office_by_id(office_id, include_unoffered=True)
    return office.name if office is not None else office_id


async def my_data(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    assert tx.person is not None
    answers = await tx.disclosures()
    referrals = await tx.referrals()
    replies = [Reply(_(texts.MYDATA_HEADER)), Reply(_(texts.MYDATA_ALWAYS))]
    office_id = tx.person.draft.office
    if office_id is not None:
        replies.append(Reply(_(texts.MYDATA_OFFICE).format(office=office_name(office_id))))
    if answers:
        replies.append(Reply(_(texts.MYDATA_ANSWERS).format(summary=summary(answers))))
    else:
        replies.append(Reply(_(texts.MYDATA_NO_ANSWERS)))
    if referrals:
        lines = "\n".join(
            _(texts.MYDATA_REFERRAL_LINE).format(
                ref=ref, office=office_name(office_id), status=_(texts.REFERRAL_STATUS[status])
            )
            for ref, office_id, status in referrals
        )
        replies.append(Reply(_(texts.MYDATA_REFERRALS).format(lines=lines)))
    replies.append(
        Reply(
            _(texts.MYDATA_FOOTER),
            keyboards.rows(
                [
                    keyboards.button(_(texts.BTN_FORGET), Forget(ForgetAction.ASK)),
                    keyboards.button(_(texts.BTN_MENU), keyboards.SHOW_MENU),
                ]
            ),
        )
    )
    event("privacy.mydata")
    return Outcome.say(*replies)


async def ask_forget(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """/forget: one confirmation first (nothing is wiped by a single stray tap)."""
    if tx.person is None:
        return Outcome.say(_(texts.FORGET_NOTHING))
    await tx.move(Step.FORGET_CONFIRM)
    return Outcome.say(Reply(_(texts.FORGET_ASK), forget_keyboard()))


async def on_forget_button(
    update: Update, context: Context, tx: PersonTransaction, button: Button | None
) -> Outcome:
    """Forget me, yes or no (`callbacks.Forget`)."""
    person = tx.person
    if person is None:
        return Outcome.say(_(texts.FORGET_NOTHING))
    action = button.action if isinstance(button, Forget) else None
    if action == ForgetAction.ASK:
        return await ask_forget(update, context, tx)
    if person.state != Step.FORGET_CONFIRM:
        return stale(context, person)
    if action == ForgetAction.NO:
        await tx.move(Step.MENU)
        return Outcome.say(Reply(_(texts.FORGET_KEPT), keyboards.main_menu()))
    if action != ForgetAction.YES:
        return stale(context, person)
    erased = await live_request.forget(context, tx)  # also tells a mentor it ended
    event("privacy.forget")
    return Outcome.say(
        _(texts.FORGET_DONE).format(
            disclosures=erased.disclosures,
            referrals=erased.referrals_withdrawn,
            cancelled=erased.notifications_cancelled,
            backup_days=context.services.settings.backup_erasure_days,
            main_backup_days=context.services.settings.backup_main_days,
        )
    )


async def clear_chat(update: Update, context: Context) -> None:
    """Delete this chat's recent messages (both sides: allowed in private chats). Not a
    flow step: it changes nothing we keep, so it opens no transaction."""
    message = update.message
    if message is None:
        return
    newest = message.message_id
    event("privacy.clear")
    await deliver(
        update,
        context,
        Outcome(
            deletes=tuple(range(max(1, newest - CLEAR_SPAN), newest + 1)),
            replies=(Reply(_(texts.CLEAR_DONE), keyboards.back_to_menu()),),
        ),
    )


FLOW = Flow(
    name="privacy",
    commands={"mydata": my_data, "forget": Anyone(ask_forget)},
    buttons={Family.FORGET: Anyone(on_forget_button)},
    menu={MenuChoice.MYDATA: my_data},
    prompts={Step.FORGET_CONFIRM: lambda person: [Reply(_(texts.FORGET_ASK), forget_keyboard())]},
    handlers=(CommandHandler("clear", clear_chat, filters=filters.ChatType.PRIVATE),),
)
