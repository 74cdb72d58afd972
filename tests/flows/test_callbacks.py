"""Button data: every kind of button is built and read in one place, and reads back as
what it was built as; the data buttons already in people's chats carry still reads as
what it meant; anything else (malformed, forged, too long) reads as None, never an error.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import InlineKeyboardMarkup

from conversations import callbacks, keyboards
from conversations.callbacks import (
    Answer,
    AnswerAction,
    Button,
    Card,
    CardAction,
    ChatAction,
    ChatButton,
    ContactChoice,
    EndChat,
    Family,
    Feedback,
    FeedbackQuestion,
    FinderAgain,
    FinderArea,
    FinderAreas,
    FinderAuthority,
    FinderOffice,
    FinderPlace,
    FinderRegion,
    FinderRegions,
    FinderWhere,
    Forget,
    ForgetAction,
    MentorAt,
    Menu,
    MenuChoice,
    Notice,
    NoticeAction,
    OfficeChoice,
    RequestAction,
    RequestContact,
    RequestOffice,
    RequestShare,
    RequestStep,
    RequestTime,
    Safety,
    SafetyAction,
    ShareChoice,
    SkipOwnWords,
    SupportIn,
    SupportNear,
    SupportTopic,
    Withdraw,
    parse,
)
from conversations.mentor import notices
from conversations.person import (
    ask_mentor,
    disclosure,
    feedback,
    jobcentre,
    live_request,
    support,
)
from conversations.person import privacy as privacy_flow
from storage.directory import AreaLookup, gazetteer, locate_text, office_by_id, offices_by_area
from storage.directory.places import _gazetteer
from storage.repositories.referrals import REF_ALPHABET

REF = "R-7KQ3XW"
OFFICE = "portsmouth-arundel-street"

# Data exactly as the release before typed buttons wrote it, and what it means now.
OLD_WIRE: dict[str, Button] = {
    "n:yes": Notice(NoticeAction.YES),
    "n:no": Notice(NoticeAction.NO),
    f"n:more:{OFFICE}": Notice(NoticeAction.MORE, OFFICE),
    "n:yes::r": Notice(NoticeAction.YES, None, resend=True),
    f"n:yes:{OFFICE}:r": Notice(NoticeAction.YES, OFFICE, resend=True),
    "menu:show": Menu(MenuChoice.SHOW),
    "menu:helpnow": Menu(MenuChoice.HELP_NOW),
    "menu:mydata": Menu(MenuChoice.MYDATA),
    # On a menu or a question, which the choice may replace (issue 16).
    "menu:tell:i": Menu(MenuChoice.TELL, in_place=True),
    "menu:show:i": Menu(MenuChoice.SHOW, in_place=True),
    # The crisis check-in and 🆘 Urgent help (issue 11; conversations/safety/checkin.py).
    "safe:ok": Safety(SafetyAction.OK),
    "safe:urgent": Safety(SafetyAction.URGENT),
    "safe:now:threat_from_other": Safety(SafetyAction.NOW, "threat_from_other"),
    "d:sub:t:alcohol": Answer("sub", AnswerAction.TICK, "alcohol"),
    "d:dur:pick:1_to_5y": Answer("dur", AnswerAction.PICK, "1_to_5y"),
    "d:sup:done": Answer("sup", AnswerAction.DONE),
    "d:need:skip": Answer("need", AnswerAction.SKIP),
    "d:need:pnts": Answer("need", AnswerAction.PREFER_NOT),
    "d:own:skip": SkipOwnWords(),
    "f:again": FinderAgain(),
    "f:regions": FinderRegions(),
    "f:r:3": FinderRegion(3),
    f"f:sup:{OFFICE}": SupportNear(OFFICE),
    "f:areas": FinderAreas(),
    "f:a:Tower Hamlets": FinderArea("Tower Hamlets"),
    f"f:o:{OFFICE}": FinderOffice(OFFICE),
    "f:where": FinderWhere(),
    "f:pl:E08000012:Walton": FinderPlace("E08000012", "Walton"),
    "f:la:E09000028": FinderAuthority("E09000028"),
    "f:supla:E09000028": SupportIn("E09000028"),
    "s:t:naloxone": SupportTopic("naloxone"),
    f"m:at:{OFFICE}": MentorAt(OFFICE),
    "mr:office:yes": RequestOffice(OfficeChoice.THIS),
    "mr:office:other": RequestOffice(OfficeChoice.OTHER),
    "mr:share:none": RequestShare(ShareChoice.NOTHING),
    "mr:share:cats": RequestShare(ShareChoice.ANSWERS),
    "mr:contact:bot": RequestContact(ContactChoice.BOT),
    "mr:contact:phone": RequestContact(ContactChoice.PHONE),
    "mr:time:evening": RequestTime("evening"),
    "mr:send": RequestStep(RequestAction.SEND),
    "mr:change": RequestStep(RequestAction.CHANGE),
    "mr:resume": RequestStep(RequestAction.RESUME),
    f"mr:wd:{REF}": Withdraw(REF),
    "mr:chat": ChatButton(ChatAction.WRITE),
    "mr:end": ChatButton(ChatAction.END),
    "mr:endno": ChatButton(ChatAction.KEEP),
    f"mr:endyes:{REF}": EndChat(REF),
    "p:forget:ask": Forget(ForgetAction.ASK),
    "p:forget:yes": Forget(ForgetAction.YES),
    "p:forget:no": Forget(ForgetAction.NO),
    "fb:h:yes": Feedback(FeedbackQuestion.HELPED, "yes"),
    "fb:n:skip": Feedback(FeedbackQuestion.NEXT, "skip"),
    f"mc:acc:{REF}": Card(CardAction.ACCEPT, REF),
    f"mc:no:{REF}": Card(CardAction.DECLINE, REF),
    f"mc:take:{REF}": Card(CardAction.TAKE, REF),
    f"mc:end:{REF}:3": Card(CardAction.CLOSE, REF, 3),
    f"mc:keep:{REF}:3": Card(CardAction.KEEP, REF, 3),
}

NOT_BUTTONS = (
    "",
    "x",
    "menu",
    "menu:",
    "menu:nope",
    "menu:tell:x",
    "menu:tell:i:i",
    "zz:yes",
    "n:maybe",
    "d:sub",
    "d:own:later",
    "d:sub:tick:alcohol",
    "f:r:abc",
    "f:r:²",  # a digit to isdigit(), not to int()
    "f:r:1234",
    "f:sup:",
    "f:a:",
    "f:o:",
    "f:pl:E08000012",
    "f:pl:E08000012:",
    "f:pl:Liverpool:Walton",  # not an authority code
    "f:la:E0800001",
    "f:la:E08000012:x",
    "f:supla:portsmouth",
    "s:t:",
    "s:x:naloxone",
    "m:at:",
    f"m:at:{OFFICE}:x",
    "mr:office:maybe",
    "mr:send:x",
    "mr:time:",
    "mr:wd:R-000000",  # 0 is not in the reference alphabet
    f"mr:wd:{REF.lower()}",
    f"mr:wd:{REF}\n",
    f"mr:endyes:{REF}:x",
    "p:other:yes",
    "fb:h",
    "fb:x:yes",
    "fb:h:yes:x",
    f"mc:acc:{REF} ",
    f"mc:acc:{REF}\n",
    f"mc:ACC:{REF}",
    f"mc:acc:{REF}:x",
    f"mc:acc:{REF[:-1]}",
    "mc:acc:",
    "mc:",
    "menu:show" + ":x" * 40,  # over 64 bytes
)


@pytest.mark.parametrize(("data", "button"), OLD_WIRE.items(), ids=list(OLD_WIRE))
def test_old_buttons_read_as_what_they_meant_and_build_back_the_same(
    data: str, button: Button
) -> None:
    assert parse(data) == button
    assert button.data == data


@pytest.mark.parametrize("data", NOT_BUTTONS)
def test_anything_else_is_none(data: str) -> None:
    assert parse(data) is None


def test_every_family_has_a_parser_and_old_wire_covers_each() -> None:
    assert {callbacks.family_of(data) for data in OLD_WIRE} == set(Family)
    assert callbacks.family_of("menu:show") == Family.MENU
    assert callbacks.family_of("m:at:x") == Family.MENTOR_AT
    assert callbacks.family_of("mr:send") == Family.REQUEST
    assert callbacks.family_of("nothing") is None


@given(st.text(max_size=80))
def test_any_text_parses_to_a_button_or_none(data: str) -> None:
    button = parse(data)
    if button is not None:
        assert button.data == data or parse(button.data) == button


words = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789_-"), min_size=1, max_size=20)
codes = st.from_regex(r"[ENSW][0-9]{8}", fullmatch=True)
refs = st.text(st.sampled_from(REF_ALPHABET), min_size=6, max_size=6).map(lambda s: f"R-{s}")
BUILT: st.SearchStrategy[Button] = st.one_of(
    st.builds(Notice, st.sampled_from(NoticeAction), st.none() | words, st.booleans()),
    st.builds(Menu, st.sampled_from(MenuChoice)),
    st.builds(Answer, words.filter(lambda w: w != "own"), st.sampled_from(AnswerAction), words),
    st.builds(FinderRegion, st.integers(0, 999)),
    st.builds(SupportNear, words),
    st.builds(FinderArea, words),
    st.builds(FinderOffice, words),
    st.builds(SupportTopic, words),
    st.builds(FinderAuthority, codes),
    st.builds(SupportIn, codes),
    st.builds(FinderPlace, codes, words),
    st.builds(MentorAt, words),
    st.builds(RequestTime, words),
    st.builds(Withdraw, refs),
    st.builds(EndChat, refs),
    st.builds(Feedback, st.sampled_from(FeedbackQuestion), words),
    st.builds(Card, st.sampled_from(CardAction), refs, st.none() | st.integers(0, 999_999_999)),
    st.builds(Safety, st.just(SafetyAction.NOW), words),
    st.builds(Safety, st.sampled_from([SafetyAction.OK, SafetyAction.URGENT])),
)


@given(BUILT)
def test_every_button_reads_back_as_itself(button: Button) -> None:
    assert parse(button.data) == button


def test_every_place_the_finder_can_offer_fits_in_a_button() -> None:
    """ "Did you mean …?" and "which of these?" carry the place's name and authority."""
    places = [p for found in _gazetteer().names.values() for p in found]
    assert len(places) > 4000 and gazetteer()
    for place in places:
        button = FinderPlace(place.authority.code, place.name)
        assert parse(button.data) == button, place.name


def test_data_over_64_bytes_is_never_built() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        _ = MentorAt("x" * 60).data


def markups() -> list[InlineKeyboardMarkup]:
    """Keyboards the bot builds, from every flow that has buttons."""
    kensington = locate_text("Kensington")
    assert isinstance(kensington, AreaLookup)
    built = [
        keyboards.main_menu(),
        keyboards.back_to_menu(),
        keyboards.notice(),
        keyboards.notice(OFFICE, resend=True),
        disclosure.own_words_keyboard(),
        *(disclosure.question_keyboard(q, frozenset(q.options[:1])) for q in disclosure.QUESTIONS),
        jobcentre.browse_keyboard(),
        jobcentre.areas_keyboard(office_by_id(OFFICE)),
        jobcentre.offices_keyboard(offices_by_area()["Liverpool"]),
        jobcentre.places_keyboard(kensington.places),
        jobcentre.authorities_keyboard(kensington),
        jobcentre.outside_keyboard("E09000028"),
        jobcentre.mentor_keyboard([OFFICE], {OFFICE: "Portsmouth"}, support_near=OFFICE),
        support.topics_keyboard(),
        ask_mentor.office_keyboard(),
        ask_mentor.share_keyboard(),
        ask_mentor.contact_keyboard(),
        ask_mentor.lapsed_keyboard(),
        ask_mentor.talk_here_keyboard(),
        ask_mentor.time_keyboard(),
        ask_mentor.confirm_keyboard(),
        live_request.waiting_keyboard(REF),
        live_request.with_mentor_keyboard("Jo"),
        live_request.end_keyboard(REF),
        feedback.helped_keyboard(),
        feedback.next_keyboard(),
        privacy_flow.forget_keyboard(),
        notices.card_keyboard(REF),
        notices.support_and_withdraw(REF),
    ]
    return built


def test_every_button_the_bot_builds_reads_back() -> None:
    datas = [
        str(b.callback_data) for markup in markups() for row in markup.inline_keyboard for b in row
    ]
    assert len(datas) > 60
    unread = [data for data in datas if parse(data) is None]
    assert unread == []
    assert {callbacks.family_of(data) for data in datas} == set(Family)
