"""The chat between a person and their mentor: who may write to whom, what happens when
a message can't be delivered, ending it from either side, and eight mentors pressing
Accept together through the real bot."""

from __future__ import annotations

from conversations import texts
from storage.repositories.outbox import Kind
from tests.support.handoff import drain, join_as_mentor, request_mentor
from tests.support.harness import Harness

OFFICE = "portsmouth-arundel-street"
SAM, JO = 8_800_700_001, 8_800_700_002
ALEX, BEA = 7_700_700_001, 7_700_700_002


async def connected(harness: Harness, person: int = ALEX, mentor: int = SAM) -> str:
    ref = await request_mentor(harness, person, OFFICE)
    await drain(harness)
    await harness.press(mentor, texts.BTN_ACCEPT)
    await drain(harness)
    return ref


async def test_waiting_then_connected_then_the_person_ends_it(harness: Harness) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    ref = await request_mentor(harness, ALEX, OFFICE)
    await harness.send(ALEX, "is anyone there?")
    assert harness.last_text(ALEX) == texts.MENTOR_WAITING.format(
        ref=ref, office="Portsmouth Jobcentre"
    )
    await harness.send(ALEX, "/mentor")  # no second request while one is open
    assert harness.last_text(ALEX) == texts.MENTOR_WAITING.format(
        ref=ref, office="Portsmouth Jobcentre"
    )
    await drain(harness)
    assert sum(ref in t for t in harness.texts(SAM)) == 1  # one card only

    await harness.press(SAM, texts.BTN_ACCEPT)
    await drain(harness)
    await harness.send(ALEX, "hello")
    await drain(harness)
    assert harness.last_text(SAM) == f"{ref}: hello"

    # A mentor with one open chat may just type; it goes to that person.
    await harness.send(SAM, "Hi, I'm Sam.")
    await drain(harness)
    assert harness.last_text(ALEX) == "Sam: Hi, I'm Sam."

    await harness.press(ALEX, texts.BTN_END_CHAT)
    assert harness.last_text(ALEX) == texts.END_CHAT_ASK.format(name="Sam")
    await harness.press(ALEX, texts.BTN_END_YES)
    assert texts.END_CHAT_DONE.format(name="Sam") in harness.all_text(ALEX)
    assert harness.last_text(ALEX) == texts.FEEDBACK_HELPED
    sent = (await drain(harness)).sent
    assert sent == [(Kind.MENTOR_NOTICE, SAM)]
    assert harness.last_text(SAM) == texts.MENTOR_NOTICE_ENDED.format(ref=ref)
    await harness.send(SAM, "are you still there?")
    assert harness.last_text(SAM) == texts.MENTOR_RELAY_HOW  # no open chat to guess
    await harness.send(SAM, f"/to {ref} hello?")
    assert harness.last_text(SAM) == texts.MENTOR_CHAT_ENDED.format(ref=ref)
    await harness.press(ALEX, texts.BTN_SKIP)
    assert harness.last_text(ALEX) == texts.FEEDBACK_NEXT


async def test_a_mentor_with_two_chats_must_say_which(harness: Harness) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    first = await connected(harness, ALEX)
    second = await connected(harness, BEA)
    await harness.send(SAM, "hello both")
    assert harness.last_text(SAM) == texts.MENTOR_RELAY_HOW
    assert "hello both" not in harness.all_text(ALEX) + harness.all_text(BEA)
    await harness.send(SAM, f"/to {second} hello Bea's side")
    await drain(harness)
    assert harness.last_text(BEA) == "Sam: hello Bea's side"
    await harness.send(SAM, "/to nonsense")
    assert harness.last_text(SAM) == texts.MENTOR_TO_USAGE
    await harness.send(SAM, "/close")
    assert harness.last_text(SAM) == texts.MENTOR_CLOSE_USAGE
    await harness.send(SAM, "/referrals")
    assert first in harness.all_text(SAM).split("Your open chats:")[-1]


async def test_undeliverable_messages_are_explained_to_the_sender(harness: Harness) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    ref = await connected(harness)
    await harness.send(ALEX, "first message")
    await drain(harness)
    assert harness.last_text(SAM) == f"{ref}: first message"

    # Sam blocked the bot: Alex is told the message could not go.
    harness.emu.inject_fault("sendMessage", status=403, chat_id=SAM, count=1)
    await harness.send(ALEX, "are you there?")
    delivered = await drain(harness)
    assert (Kind.RELAY, "unreachable") in delivered.dead
    assert harness.last_text(ALEX) == texts.RELAY_FAILED.format(name="Sam")

    # A passing Telegram error only delays a message: it is retried, and arrives once.
    await harness.send(SAM, "/referrals")  # Sam is back (reachable again)
    harness.emu.inject_fault("sendMessage", status=502, chat_id=ALEX, count=1)
    await harness.send(SAM, "yes, I'm here")
    await drain(harness)
    assert "Sam: yes, I'm here" not in harness.texts(ALEX)
    harness.clock.advance(seconds=30)
    await drain(harness)
    assert harness.texts(ALEX).count("Sam: yes, I'm here") == 1


async def test_mentor_availability_controls_new_cards(harness: Harness) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    await join_as_mentor(harness, JO, "Jo", office_id=OFFICE)
    await harness.send(JO, "/away")
    assert harness.last_text(JO) == texts.MENTOR_AWAY
    ref = await request_mentor(harness, ALEX, OFFICE)
    assert (await drain(harness)).sent == [(Kind.CARD, SAM)]
    await harness.send(JO, "/referrals")
    assert ref in harness.all_text(JO)  # she can still see and take what waits
    await harness.press(JO, texts.BTN_ACCEPT_REF.format(ref=ref))
    assert list(harness.emu.callback_answers().values())[-1].text == texts.TOAST_ACCEPTED
    await harness.send(JO, "/available")
    assert harness.last_text(JO) == texts.MENTOR_AVAILABLE
    sent = (await drain(harness)).sent
    assert (Kind.CARD_UPDATE, SAM) in sent and (Kind.ACCEPTED, ALEX) in sent


async def test_eight_mentors_press_accept_together_through_the_bot(harness: Harness) -> None:
    team = [8_800_710_000 + n for n in range(8)]
    for n, mentor in enumerate(team):
        await join_as_mentor(harness, mentor, f"Mentor{'ABCDEFGH'[n]}", office_id=OFFICE)
    ref = await request_mentor(harness, ALEX, OFFICE)
    await drain(harness)
    queries = []
    for mentor in team:  # all eight taps are queued before the bot reads any of them
        card = harness.emu.last_bot_message(mentor)
        assert card is not None
        queries.append(harness.emu.user_presses(mentor, card.message_id, f"mc:acc:{ref}"))
    await harness.settle()
    toasts = [harness.emu.callback_answer(q.callback_query_id or "") for q in queries]
    texts_shown = sorted(a.text or "" for a in toasts if a is not None)
    assert texts_shown == sorted([texts.TOAST_ACCEPTED] + [texts.TOAST_TAKEN] * 7)
    await drain(harness)
    accepted = [t for t in harness.texts(ALEX) if t.startswith("🤝 Good news.")]
    assert len(accepted) == 1
    assert sum(harness.last_text(m) == texts.CARD_YOURS.format(ref=ref) for m in team) == 1
    assert sum(harness.last_text(m) == texts.CARD_TAKEN.format(ref=ref) for m in team) == 7
