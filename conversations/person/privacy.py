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

from conversations import keyboards, texts, web_texts
from conversations.callbacks import Button, Family, Forget, ForgetAction, MenuChoice
from conversations.common import event
from conversations.context import Context
from conversations.door import by_web
from conversations.i18n import _, join_labels
from conversations.mentor.notices import describe_delay, time_label
from conversations.outcome import Outcome, Reply, deliver
from conversations.person import live_request
from conversations.person.disclosure import summary
from conversations.registry import Anyone, Flow, stale
from conversations.steps import Step
from storage.directory import office_by_id
from storage.repositories.people import PersonReferral, PersonTransaction
from storage.repositories.person_draft import Draft

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


def in_progress(draft: Draft, delay: str) -> list[str]:
    """What the draft holds that the person has not saved or sent yet, phone number and all."""
    said: list[str] = []
    if draft.ticked:
        choices = join_labels([_(texts.OPTION_LABELS.get(code, code)) for code in draft.ticked])
        said.append(_(texts.MYDATA_TICKED).format(choices=choices))
    request = draft.request
    if request is None:
        return said
    lines = []
    if request.share:
        share = _(texts.MENTOR_SHARE_LABELS.get(request.share, request.share))
        lines.append(_(texts.MYDATA_REQUEST_SHARE).format(share=share))
    if request.contact:
        contact = _(texts.MENTOR_CONTACT_LABELS.get(request.contact, request.contact))
        lines.append(_(texts.MYDATA_REQUEST_CONTACT).format(contact=contact))
    if request.phone:
        lines.append(_(texts.MYDATA_REQUEST_PHONE).format(phone=request.phone, delay=delay))
    if request.time:
        lines.append(_(texts.MYDATA_REQUEST_TIME).format(time=time_label(request.time)))
    if lines:
        said.append(_(texts.MYDATA_REQUEST).format(lines="\n".join(lines)))
    return said


def feedback_answers(referral: PersonReferral) -> str:
    given = {"helped": referral.feedback_helped, "next": referral.feedback_next_step}
    labels = {"helped": texts.FEEDBACK_HELPED_LABELS, "next": texts.FEEDBACK_NEXT_LABELS}
    return " ".join(
        _(texts.MYDATA_FEEDBACK_ANSWER).format(
            question=_(texts.MYDATA_FEEDBACK_QUESTIONS[name]),
            answer=_(labels[name].get(code, code)),
        )
        for name, code in given.items()
        if code is not None
    )


def referral_lines(referral: PersonReferral) -> list[str]:
    lines = [
        _(texts.MYDATA_REFERRAL_LINE).format(
            ref=referral.public_ref,
            office=office_name(referral.office_id),
            status=_(texts.REFERRAL_STATUS[referral.status]),
        ),
        _(texts.MYDATA_REFERRAL_DETAILS).format(
            share=_(texts.MENTOR_SHARE_LABELS.get(referral.share, referral.share)),
            contact=_(texts.MENTOR_CONTACT_LABELS.get(referral.contact_by, referral.contact_by)),
            time=time_label(referral.time_window),
        ),
    ]
    answers = feedback_answers(referral)
    if answers:
        lines.append(_(texts.MYDATA_FEEDBACK).format(answers=answers))
    return lines


async def my_data(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """Everything kept about the person, to them alone: what MYDATA_ALWAYS names but
    does not show (dates) is the only thing not shown in full."""
    assert tx.person is not None
    answers = await tx.disclosures()
    referrals = await tx.referrals()
    waiting = await tx.messages_waiting()
    always = _(web_texts.MYDATA_ALWAYS_WEB) if by_web(update) else _(texts.MYDATA_ALWAYS)
    replies = [Reply(_(texts.MYDATA_HEADER)), Reply(always)]
    office_id = tx.person.draft.office
    if office_id is not None:
        replies.append(Reply(_(texts.MYDATA_OFFICE).format(office=office_name(office_id))))
    delay = describe_delay(context.services.settings.request_draft_max_hours * 60)
    replies.extend(Reply(text) for text in in_progress(tx.person.draft, delay))
    if answers:
        replies.append(Reply(_(texts.MYDATA_ANSWERS).format(summary=summary(answers))))
    else:
        replies.append(Reply(_(texts.MYDATA_NO_ANSWERS)))
    if referrals:
        lines = "\n".join(line for referral in referrals for line in referral_lines(referral))
        replies.append(Reply(_(texts.MYDATA_REFERRALS).format(lines=lines)))
        if any(r.feedback_helped or r.feedback_next_step for r in referrals):
            replies.append(Reply(_(texts.MYDATA_FEEDBACK_KEPT)))
    if waiting:
        replies.append(Reply(_(texts.MYDATA_WAITING).format(count=waiting)))
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
        (_(web_texts.FORGET_DONE_WEB) if by_web(update) else _(texts.FORGET_DONE)).format(
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
    if by_web(update):
        # The web chat has no history to clear: the page keeps nothing past the tab.
        await deliver(update, context, Outcome(replies=(Reply(_(web_texts.CLEAR_WEB)),)))
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
