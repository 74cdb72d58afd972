"""Passing messages between a person and the mentor who accepted them.

Bodies are never stored: a relayed message is read from the incoming update, checked
against the referral (the sender really is one end of an accepted referral), and sent
as NEW text after the transaction committed — never forwarded or copied, so nothing of
the sender's account travels with it. The person's text reaches the mentor labelled
with the reference ("R-7KQ3XW: …"); the mentor's reply reaches the person labelled with
the mentor's chosen first name. If a send fails, the sender is told kindly.

Both ends return an `Outcome` with a `Relay` in it (conversations/outcome.py), carried
out like any other reply after the commit.
"""

from __future__ import annotations

from datetime import datetime

from telegram import Update

from conversations import texts
from conversations.context import Context
from conversations.i18n import _
from conversations.menu import menu_replies
from conversations.outcome import Outcome, Relay, Reply
from conversations.registry import Flow, Input
from conversations.steps import Step
from storage.crypto import KeyRing
from storage.db import Connection
from storage.models import MentorStatus, ReferralStatus
from storage.repositories import mentors, referrals
from storage.repositories.mentors import MentorRecord
from storage.repositories.people import PersonTransaction
from storage.repositories.people import chat_id_of as person_chat_id

MAX_MESSAGE = 4096  # Telegram's limit for one text message


# ------------------------------------------------------------------- person → mentor


async def from_person(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """The person's text at Step.WITH_MENTOR: to their mentor, labelled with the reference.

    A message that signals danger is passed on too (the urgent-help reply went first, in
    group -1): the person is talking to someone who can help, and nothing of it is kept.
    """
    person = tx.person
    assert person is not None
    message = update.message
    if message is None or message.text is None:
        return Outcome.say(_(texts.ONLY_TEXT))
    text = message.text
    connection, ring = tx.connection, context.services.ring
    live = await referrals.live_for_person(connection, person.id)
    if live is None or live.status != ReferralStatus.ACCEPTED or live.mentor_id is None:
        await tx.move(Step.MENU, draft=person.draft.settled())
        return Outcome.say(_(texts.RELAY_ENDED), *menu_replies())
    if await mentors.status_of(connection, live.mentor_id) != MentorStatus.ACTIVE:
        return Outcome.say(_(texts.RELAY_ENDED))
    target = await mentors.mentor_chat_id(connection, ring, live.mentor_id)
    name = await mentors.display_name_of(connection, ring, live.mentor_id) or ""
    labelled = _(texts.MENTOR_RELAY).format(ref=live.public_ref, text=text)
    if len(labelled) > MAX_MESSAGE:
        limit = MAX_MESSAGE - len(labelled) + len(text)
        return Outcome.say(_(texts.RELAY_TOO_LONG).format(limit=limit))
    failed = Reply(_(texts.RELAY_FAILED).format(name=name))
    if target is None:
        return Outcome.say(failed)
    await referrals.touch(connection, live.id, tx.now)  # the chat is not quiet
    sent: tuple[Reply, ...] = ()
    if not person.draft.relayed:
        await tx.move(
            Step.WITH_MENTOR, draft=person.draft.settled(ref=live.public_ref, relayed=True)
        )
        sent = (Reply(_(texts.RELAY_SENT_FIRST).format(name=name)),)
    relay = Relay(
        chat_id=target[0],
        text=labelled,
        protect=True,
        failed=failed,
        recipient=("mentor", live.mentor_id),
        referral_id=live.id,
        sealed_by=person.cipher,
        sent=sent,
    )
    return Outcome(relay=relay)


# ------------------------------------------------------------------- mentor → person


async def from_mentor(
    connection: Connection,
    ring: KeyRing,
    mentor: MentorRecord,
    public_ref: str,
    text: str,
    now: datetime,
) -> Outcome:
    """A mentor's reply: only on a referral they accepted and that is still open."""
    referral = await referrals.by_ref(connection, public_ref)
    if referral is None or referral.mentor_id != mentor.id:
        return Outcome.say(_(texts.MENTOR_NO_CHAT).format(ref=public_ref))
    ended = Outcome.say(_(texts.MENTOR_CHAT_ENDED).format(ref=public_ref))
    if referral.status != ReferralStatus.ACCEPTED or referral.person_id is None:
        return ended
    target = await person_chat_id(connection, ring, referral.person_id)
    if target is None:
        return ended
    labelled = _(texts.RELAY_FROM_MENTOR).format(name=mentor.display_name or "", text=text)
    if len(labelled) > MAX_MESSAGE:
        limit = MAX_MESSAGE - len(labelled) + len(text)
        return Outcome.say(_(texts.RELAY_TOO_LONG).format(limit=limit))
    chat_id, cipher = target
    await referrals.touch(connection, referral.id, now)  # the chat is not quiet
    relay = Relay(
        chat_id=chat_id,
        text=labelled,
        protect=False,
        failed=Reply(_(texts.MENTOR_RELAY_FAILED).format(ref=public_ref)),
        recipient=("person", referral.person_id),
        referral_id=referral.id,
        sealed_by=cipher,
    )
    return Outcome(relay=relay)


async def location_in_chat(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """A location shared in a live chat: not passed on, not kept, and the chat goes on
    (the finder, which takes locations elsewhere, would lead away from the mentor)."""
    person = tx.person
    assert person is not None
    live = await referrals.live_for_person(tx.connection, person.id)
    name = None
    if live is not None and live.mentor_id is not None:
        name = await mentors.display_name_of(tx.connection, context.services.ring, live.mentor_id)
    return Outcome.say(_(texts.RELAY_NO_LOCATION).format(name=name or ""))


FLOW = Flow(
    name="relay",
    text_steps={Step.WITH_MENTOR: from_person},
    step_inputs={Step.WITH_MENTOR: {Input.LOCATION: location_in_chat}},
    crisis_text_goes_on=frozenset({Step.WITH_MENTOR}),
)
