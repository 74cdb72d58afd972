"""Urgent help first: any free text that signals danger gets the crisis reply at once.

Runs in handler group -1, after the guards and before the flows, and does not stop the
update: the person's conversation carries on. The reply is the urgent one (999 first) or,
for a message that may signal danger, the check-in "Are you safe right now?" with two
buttons (`conversations.safety.checkin`). The guards call `send_crisis_reply` too for
what they stop (a message that is too long, a caption on a photo, an edit, someone
sending too fast), so a person in danger is never met with only a refusal. Flows that
store free text call `is_crisis` too and do not store a message that triggered either
tier. Command arguments that are codes are never checked (`free_text`).

A message that got the check-in is not kept either, so "I'm OK" offers to keep it if the
person sends it again (`allow_sending_again`): their next text then gets no check-in and
is kept as at any other time (`is_crisis_here`). Only that one text, and never the urgent
reply: urgent words always get it.

The reply is for people seeking help, not for approved mentors and coordinators at
work (a mentor passing on "if you ever feel you want to end it all, call 999"). Who
wrote is looked up only once the words matched, so an ordinary update costs no query.
Someone who joined but is not approved yet, or was revoked, still gets the reply; and
an approved mentor's or coordinator's words that are passed on to no one get it from
the mentor side (`conversations.mentor.gate.urgent_help_first`).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import MessageHandler, filters

from conversations.common import event
from conversations.context import Context
from conversations.safety.check import Verdict, assess
from conversations.safety.free_text import free_text
from conversations.safety.kinds import Tier
from conversations.safety.replies import reply_for
from storage.models import MentorStatus
from storage.repositories.mentors import account_status

__all__ = [
    "allow_sending_again",
    "build_crisis_handler",
    "crisis_verdict",
    "is_crisis",
    "is_crisis_here",
    "send_crisis_reply",
]

#: In PTB's user data (memory only, never text): "I'm OK" was tapped, so the next text
#: gets no check-in; and the id of the update whose check-in stood aside. Read without
#: making an entry (`_offer`), and the entry goes as soon as it is empty, so only people
#: with an open offer have one (the memory test counts PTB's user data).
_MAY_SEND_AGAIN = "crisis.may_send_again"
_SENT_AGAIN = "crisis.sent_again"


def crisis_verdict(text: str | None) -> Verdict | None:
    """The check on the person's own words in `text` (codes left out)."""
    return assess(free_text(text))


def is_crisis(text: str | None) -> bool:
    """Whether `text` gets urgent help or a check-in: if so, it is never stored."""
    return crisis_verdict(text) is not None


def allow_sending_again(context: Context) -> None:
    """After "I'm OK": the person's next text gets no check-in, so it can be kept."""
    if context.user_data is not None:
        context.user_data[_MAY_SEND_AGAIN] = True


def _offer(update: Update, context: Context) -> dict[str, object] | None:
    """The sender's open offer, if any (never makes an entry)."""
    user = update.effective_user
    if user is None:
        return None
    data: dict[str, object] | None = context.application.user_data.get(user.id)
    return data


def _tidy(update: Update, context: Context, data: dict[str, object]) -> None:
    if not data and update.effective_user is not None:
        context.application.drop_user_data(update.effective_user.id)


def _sent_again(update: Update, context: Context, verdict: Verdict | None) -> bool:
    """Whether this update is the text sent again after "I'm OK" and only a check-in
    would have stood in its way (the mark goes with the person's next text)."""
    data = _offer(update, context)
    if verdict is None or verdict.tier is not Tier.CHECKIN or not data:
        return False
    return data.get(_SENT_AGAIN) == update.update_id


def is_crisis_here(update: Update, context: Context) -> bool:
    """`is_crisis` for a flow about to keep the update's text: False for the text sent
    again after "I'm OK" (see the module docstring)."""
    text = update.message.text if update.message is not None else None
    verdict = crisis_verdict(text)
    return verdict is not None and not _sent_again(update, context, verdict)


async def _from_mentor_at_work(context: Context, account_id: int) -> bool:
    services = context.services
    status = await account_status(services.database, services.ring, account_id)
    return status == MentorStatus.ACTIVE


async def send_crisis_reply(context: Context, chat_id: int, text: str | None) -> bool:
    """Send the urgent reply or the check-in if `text` calls for one and the sender is
    not an approved mentor or coordinator; True when it was sent. Only private chats come
    here, where the chat id is the sender's account id."""
    return await _send_reply(context, chat_id, crisis_verdict(text))


async def _send_reply(context: Context, chat_id: int, verdict: Verdict | None) -> bool:
    if verdict is None or await _from_mentor_at_work(context, chat_id):
        return False
    event("crisis.reply", tier=verdict.tier.value, kind=verdict.kind.value)
    words, markup = reply_for(verdict.tier, verdict.kind)
    await context.bot.send_message(chat_id, words, reply_markup=markup, parse_mode=None)
    return True


async def crisis_check(update: Update, context: Context) -> None:
    message = update.message
    if message is None or message.text is None:
        return
    verdict = crisis_verdict(message.text)
    data = _offer(update, context)
    if data:
        data.pop(_SENT_AGAIN, None)  # an earlier text's, whether a flow used it or not
        may_send_again = bool(data.pop(_MAY_SEND_AGAIN, False))
        if may_send_again and verdict and verdict.tier is Tier.CHECKIN:
            data[_SENT_AGAIN] = update.update_id  # the flows keep it (`is_crisis_here`)
            event("crisis.checkin_waived")
            return
        _tidy(update, context, data)
    await _send_reply(context, message.chat.id, verdict)


def build_crisis_handler() -> MessageHandler[Context, None]:
    return MessageHandler(filters.ChatType.PRIVATE & filters.TEXT, crisis_check)
