"""What a button carries: one small class per kind of button, built and read here only.

Telegram hands a button's callback data back as an untrusted string of at most 64
bytes. Each class below builds the data of its buttons (`.data`), and `parse` reads any
string back into one of them, or None when it is malformed, forged or from a version of
the bot that no longer has it. A family of buttons shares the first part of the data
(`Family`), and the handlers are registered by family; whether a well-formed button
still applies (the person's step, a mentor's rights, an office that exists) is for the
flow that takes it to check.

The wire format is the one buttons already in people's chats carry,
`<family>:<action>[:<argument>…]`: an old button still reads as what it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, TypeVar

from storage.repositories.referrals import REF_PATTERN

MAX_DATA_BYTES = 64  # Telegram's limit for callback data
_REF = re.compile(REF_PATTERN)
_AUTHORITY = re.compile(r"[ENSW][0-9]{8}")


class Family(StrEnum):
    """The first part of the data: which flow a button belongs to."""

    NOTICE = "n"  # the privacy notice
    MENU = "menu"  # the main menu
    DISCLOSE = "d"  # telling us what's going on
    FINDER = "f"  # the Jobcentre finder
    SUPPORT = "s"  # the support list's topics
    MENTOR_AT = "m"  # the finder's "Mentor at …"
    REQUEST = "mr"  # a mentor request, and the chat it leads to
    FORGET = "p"  # /forget
    FEEDBACK = "fb"  # the questions after a chat
    CARD = "mc"  # a mentor's request cards and /referrals list
    SAFETY = "safe"  # the check-in's buttons and 🆘 Urgent help (conversations/safety)


def _ref(value: str) -> bool:
    return _REF.fullmatch(value) is not None


def _code(value: str) -> bool:
    """A local authority's ONS code (E06000044, W06000015, S12000049…)."""
    return _AUTHORITY.fullmatch(value) is not None


def _join(*parts: str) -> str:
    data = ":".join(parts)
    if len(data.encode()) > MAX_DATA_BYTES:
        raise ValueError("callback data over 64 bytes")
    return data


# --------------------------------------------------------------------------- person


class NoticeAction(StrEnum):
    YES = "yes"  # Continue
    MORE = "more"  # Tell me more
    NO = "no"  # Not now


@dataclass(frozen=True, slots=True)
class Notice:
    """Continue / Tell me more / Not now, with the poster's office, and `resend` when
    the person wrote before reading the notice: `n:<action>[:<office>[:r]]`."""

    FAMILY: ClassVar = Family.NOTICE
    action: NoticeAction
    office: str | None = None
    resend: bool = False

    @property
    def data(self) -> str:
        if self.resend:
            return _join(self.FAMILY, self.action, self.office or "", "r")
        if self.office:
            return _join(self.FAMILY, self.action, self.office)
        return _join(self.FAMILY, self.action)


class MenuChoice(StrEnum):
    SHOW = "show"  # the menu itself
    HELP_NOW = "helpnow"
    TELL = "tell"
    SUPPORT = "support"
    MENTOR = "mentor"
    JOBCENTRE = "jobcentre"
    MYDATA = "mydata"
    ABOUT = "about"


@dataclass(frozen=True, slots=True)
class Menu:
    """A main-menu choice: `menu:<choice>[:i]`. `i` (`in_place`) when the message it is on
    is only a way on (the menu, a question), which the choice may then replace; without
    it (a message the person may want to read again, or an older button) the message
    stays as it is, buttons and all: a menu choice is never out of date."""

    FAMILY: ClassVar = Family.MENU
    choice: MenuChoice
    in_place: bool = False

    @property
    def data(self) -> str:
        if self.in_place:
            return _join(self.FAMILY, self.choice, "i")
        return _join(self.FAMILY, self.choice)


class AnswerAction(StrEnum):
    TICK = "t"  # tick or untick an option of a multi-choice question
    PICK = "pick"  # the answer to a single-choice question
    DONE = "done"
    SKIP = "skip"
    PREFER_NOT = "pnts"  # prefer not to say


@dataclass(frozen=True, slots=True)
class Answer:
    """A disclosure question's button: `d:<question>:<action>[:<option>]`. `t` ticks or
    unticks an option of a multi-choice question, `pick` answers a single-choice one,
    `pnts` is "prefer not to say"."""

    FAMILY: ClassVar = Family.DISCLOSE
    question: str
    action: AnswerAction
    option: str = ""

    @property
    def data(self) -> str:
        if self.option:
            return _join(self.FAMILY, self.question, self.action, self.option)
        return _join(self.FAMILY, self.question, self.action)


@dataclass(frozen=True, slots=True)
class SkipOwnWords:
    """Skip the optional message in the person's own words: `d:own:skip`."""

    FAMILY: ClassVar = Family.DISCLOSE
    QUESTION: ClassVar = "own"

    @property
    def data(self) -> str:
        return _join(self.FAMILY, self.QUESTION, "skip")


@dataclass(frozen=True, slots=True)
class FinderAgain:
    """Search again: `f:again`."""

    FAMILY: ClassVar = Family.FINDER

    @property
    def data(self) -> str:
        return _join(self.FAMILY, "again")


@dataclass(frozen=True, slots=True)
class FinderRegions:
    """Browse by region: `f:regions`. An older button: it now shows the pilot areas."""

    FAMILY: ClassVar = Family.FINDER

    @property
    def data(self) -> str:
        return _join(self.FAMILY, "regions")


@dataclass(frozen=True, slots=True)
class FinderRegion:
    """One region, by its place in the sorted list: `f:r:<index>`. An older button: the
    regions are gone, so it shows the pilot areas."""

    FAMILY: ClassVar = Family.FINDER
    index: int

    @property
    def data(self) -> str:
        return _join(self.FAMILY, "r", str(self.index))


@dataclass(frozen=True, slots=True)
class FinderAreas:
    """The pilot areas, to pick a Jobcentre from: `f:areas`."""

    FAMILY: ClassVar = Family.FINDER

    @property
    def data(self) -> str:
        return _join(self.FAMILY, "areas")


@dataclass(frozen=True, slots=True)
class FinderArea:
    """The pilot Jobcentres of one pilot area, by its name: `f:a:<area>`."""

    FAMILY: ClassVar = Family.FINDER
    area: str

    @property
    def data(self) -> str:
        return _join(self.FAMILY, "a", self.area)


@dataclass(frozen=True, slots=True)
class FinderOffice:
    """ "This is my Jobcentre": `f:o:<office>`."""

    FAMILY: ClassVar = Family.FINDER
    office: str

    @property
    def data(self) -> str:
        return _join(self.FAMILY, "o", self.office)


@dataclass(frozen=True, slots=True)
class FinderWhere:
    """ "I don't know my Jobcentre": search by postcode, town or location: `f:where`."""

    FAMILY: ClassVar = Family.FINDER

    @property
    def data(self) -> str:
        return _join(self.FAMILY, "where")


@dataclass(frozen=True, slots=True)
class FinderPlace:
    """A named place in one local authority, picked from "Did you mean …?" or from a
    name found in several authorities: `f:pl:<authority code>:<place name>`."""

    FAMILY: ClassVar = Family.FINDER
    authority: str
    name: str

    @property
    def data(self) -> str:
        return _join(self.FAMILY, "pl", self.authority, self.name)


@dataclass(frozen=True, slots=True)
class FinderAuthority:
    """A local authority picked where a postcode sector or a shared location lies across
    a boundary (the place itself is not carried): `f:la:<authority code>`."""

    FAMILY: ClassVar = Family.FINDER
    authority: str

    @property
    def data(self) -> str:
        return _join(self.FAMILY, "la", self.authority)


@dataclass(frozen=True, slots=True)
class SupportNear:
    """Support near an office the finder showed: `f:sup:<office>`."""

    FAMILY: ClassVar = Family.FINDER
    office: str

    @property
    def data(self) -> str:
        return _join(self.FAMILY, "sup", self.office)


@dataclass(frozen=True, slots=True)
class SupportIn:
    """Support for a local authority the finder named (outside the pilot too):
    `f:supla:<authority code>`."""

    FAMILY: ClassVar = Family.FINDER
    authority: str

    @property
    def data(self) -> str:
        return _join(self.FAMILY, "supla", self.authority)


@dataclass(frozen=True, slots=True)
class SupportTopic:
    """Services on one topic (benefits advice, families, naloxone…): `s:t:<topic>`."""

    FAMILY: ClassVar = Family.SUPPORT
    topic: str

    @property
    def data(self) -> str:
        return _join(self.FAMILY, "t", self.topic)


@dataclass(frozen=True, slots=True)
class MentorAt:
    """Ask for a mentor at this office: `m:at:<office>`."""

    FAMILY: ClassVar = Family.MENTOR_AT
    office: str

    @property
    def data(self) -> str:
        return _join(self.FAMILY, "at", self.office)


class OfficeChoice(StrEnum):
    THIS = "yes"
    OTHER = "other"


class ShareChoice(StrEnum):
    NOTHING = "none"
    ANSWERS = "cats"  # the categories they chose in their button answers


class ContactChoice(StrEnum):
    BOT = "bot"
    PHONE = "phone"


class RequestAction(StrEnum):
    SEND = "send"
    CHANGE = "change"
    RESUME = "resume"  # carry on after the purge took a phone number


class ChatAction(StrEnum):
    WRITE = "chat"  # how to write to the mentor
    END = "end"  # asks first
    KEEP = "endno"  # no, keep the chat


@dataclass(frozen=True, slots=True)
class RequestOffice:
    """This office, or another: `mr:office:yes|other`."""

    FAMILY: ClassVar = Family.REQUEST
    choice: OfficeChoice

    @property
    def data(self) -> str:
        return _join(self.FAMILY, "office", self.choice)


@dataclass(frozen=True, slots=True)
class RequestShare:
    """What the mentor may see: `mr:share:none|cats`."""

    FAMILY: ClassVar = Family.REQUEST
    choice: ShareChoice

    @property
    def data(self) -> str:
        return _join(self.FAMILY, "share", self.choice)


@dataclass(frozen=True, slots=True)
class RequestContact:
    """How to get in touch: `mr:contact:bot|phone`."""

    FAMILY: ClassVar = Family.REQUEST
    choice: ContactChoice

    @property
    def data(self) -> str:
        return _join(self.FAMILY, "contact", self.choice)


@dataclass(frozen=True, slots=True)
class RequestTime:
    """When suits them: `mr:time:<code>`."""

    FAMILY: ClassVar = Family.REQUEST
    code: str

    @property
    def data(self) -> str:
        return _join(self.FAMILY, "time", self.code)


@dataclass(frozen=True, slots=True)
class RequestStep:
    """Send it, change it, or carry on after a lapse: `mr:send`, `mr:change`, `mr:resume`."""

    FAMILY: ClassVar = Family.REQUEST
    action: RequestAction

    @property
    def data(self) -> str:
        return _join(self.FAMILY, self.action)


@dataclass(frozen=True, slots=True)
class Withdraw:
    """Stop the request with this reference: `mr:wd:<ref>`."""

    FAMILY: ClassVar = Family.REQUEST
    ref: str

    @property
    def data(self) -> str:
        return _join(self.FAMILY, "wd", self.ref)


@dataclass(frozen=True, slots=True)
class ChatButton:
    """The chat with a mentor: write to them, end it, or keep it (`mr:chat`, `mr:end`,
    `mr:endno`)."""

    FAMILY: ClassVar = Family.REQUEST
    action: ChatAction

    @property
    def data(self) -> str:
        return _join(self.FAMILY, self.action)


@dataclass(frozen=True, slots=True)
class EndChat:
    """Yes, end the chat on this referral: `mr:endyes:<ref>`."""

    FAMILY: ClassVar = Family.REQUEST
    ref: str

    @property
    def data(self) -> str:
        return _join(self.FAMILY, "endyes", self.ref)


class ForgetAction(StrEnum):
    ASK = "ask"
    YES = "yes"
    NO = "no"


@dataclass(frozen=True, slots=True)
class Forget:
    """/forget's buttons: `p:forget:ask|yes|no`."""

    FAMILY: ClassVar = Family.FORGET
    action: ForgetAction

    @property
    def data(self) -> str:
        return _join(self.FAMILY, "forget", self.action)


class FeedbackQuestion(StrEnum):
    HELPED = "h"  # did it help
    NEXT = "n"  # what next


@dataclass(frozen=True, slots=True)
class Feedback:
    """An answer to a question after a chat (`skip` for none): `fb:h|n:<code>`. It
    carries no reference: the answer goes on the person's own latest closed referral."""

    FAMILY: ClassVar = Family.FEEDBACK
    question: FeedbackQuestion
    code: str

    @property
    def data(self) -> str:
        return _join(self.FAMILY, self.question, self.code)


# --------------------------------------------------------------------------- mentor


class CardAction(StrEnum):
    ACCEPT = "acc"  # on a card
    DECLINE = "no"  # Can't take this, on a card
    TAKE = "take"  # Accept, on the /referrals list
    CLOSE = "end"  # Yes, end the chat: the answer to a mentor's /close
    KEEP = "keep"  # No, keep it


@dataclass(frozen=True, slots=True)
class Card:
    """A mentor's button on a request: Accept and Can't take this on a card
    (`mc:acc:<ref>`, `mc:no:<ref>`), Accept on the /referrals list (`mc:take:<ref>`),
    and the answers to /close with the version of the chat they were asked about
    (`mc:end:<ref>:<version>`, `mc:keep:<ref>:<version>`)."""

    FAMILY: ClassVar = Family.CARD
    action: CardAction
    ref: str
    version: int | None = None

    @property
    def data(self) -> str:
        if self.version is not None:
            return _join(self.FAMILY, self.action, self.ref, str(self.version))
        return _join(self.FAMILY, self.action, self.ref)


# --------------------------------------------------------------------------- safety


class SafetyAction(StrEnum):
    OK = "ok"  # I'm OK, on a check-in
    NOW = "now"  # I need help now, on a check-in (with the kind it was about)
    URGENT = "urgent"  # 🆘 Urgent help, on the main menu and under /help


@dataclass(frozen=True, slots=True)
class Safety:
    """The check-in's buttons and 🆘 Urgent help: `safe:ok`, `safe:now:<kind>`,
    `safe:urgent`. Answered for anyone at any step (conversations/safety/checkin.py)."""

    FAMILY: ClassVar = Family.SAFETY
    action: SafetyAction
    kind: str = ""

    @property
    def data(self) -> str:
        if self.action is SafetyAction.NOW:
            return _join(self.FAMILY, self.action, self.kind)
        return _join(self.FAMILY, self.action)


Button = (
    Notice
    | Menu
    | Answer
    | SkipOwnWords
    | FinderAgain
    | FinderRegions
    | FinderRegion
    | FinderAreas
    | FinderArea
    | FinderOffice
    | FinderWhere
    | FinderPlace
    | FinderAuthority
    | SupportNear
    | SupportIn
    | SupportTopic
    | MentorAt
    | RequestOffice
    | RequestShare
    | RequestContact
    | RequestTime
    | RequestStep
    | Withdraw
    | ChatButton
    | EndChat
    | Forget
    | Feedback
    | Card
    | Safety
)


# -------------------------------------------------------------------------- parsing


E = TypeVar("E", bound=StrEnum)


def _enum(kind: type[E], value: str) -> E | None:
    """The member of `kind` whose wire value this is, else None."""
    try:
        return kind(value)
    except ValueError:
        return None


def _notice(parts: list[str]) -> Button | None:
    action = _enum(NoticeAction, parts[0])
    if action is None:
        return None
    office = parts[1] if len(parts) > 1 and parts[1] else None
    return Notice(action, office, resend=len(parts) > 2 and parts[2] == "r")


def _menu(parts: list[str]) -> Button | None:
    choice = _enum(MenuChoice, parts[0])
    if choice is None or parts[1:] not in ([], ["i"]):
        return None
    return Menu(choice, in_place=parts[1:] == ["i"])


def _disclose(parts: list[str]) -> Button | None:
    if len(parts) < 2:
        return None
    question, action = parts[0], parts[1]
    if question == SkipOwnWords.QUESTION:
        return SkipOwnWords() if action == "skip" else None
    known = _enum(AnswerAction, action)
    if known is None:
        return None
    return Answer(question, known, parts[2] if len(parts) > 2 else "")


def _finder(parts: list[str]) -> Button | None:
    match parts:
        case ["again", *_]:
            return FinderAgain()
        case ["regions", *_]:
            return FinderRegions()
        case ["r", index, *_] if index.isascii() and index.isdigit() and len(index) <= 3:
            return FinderRegion(int(index))
        case ["sup", office, *_] if office:
            return SupportNear(office)
        case ["areas"]:
            return FinderAreas()
        case ["a", area] if area:
            return FinderArea(area)
        case ["o", office] if office:
            return FinderOffice(office)
        case ["where"]:
            return FinderWhere()
        case ["pl", code, *name] if _code(code) and any(name):
            return FinderPlace(code, ":".join(name))  # a name may hold a colon
        case ["la", code] if _code(code):
            return FinderAuthority(code)
        case ["supla", code] if _code(code):
            return SupportIn(code)
    return None


def _support(parts: list[str]) -> Button | None:
    match parts:
        case ["t", topic] if topic:
            return SupportTopic(topic)
    return None


def _mentor_at(parts: list[str]) -> Button | None:
    match parts:
        case ["at", office] if office:
            return MentorAt(office)
    return None


def _request(parts: list[str]) -> Button | None:
    match parts:
        case ["office", choice]:
            office = _enum(OfficeChoice, choice)
            return RequestOffice(office) if office is not None else None
        case ["share", choice]:
            share = _enum(ShareChoice, choice)
            return RequestShare(share) if share is not None else None
        case ["contact", choice]:
            contact = _enum(ContactChoice, choice)
            return RequestContact(contact) if contact is not None else None
        case ["time", code] if code:
            return RequestTime(code)
        case ["wd", ref] if _ref(ref):
            return Withdraw(ref)
        case ["endyes", ref] if _ref(ref):
            return EndChat(ref)
        case [action]:
            step = _enum(RequestAction, action)
            if step is not None:
                return RequestStep(step)
            chat = _enum(ChatAction, action)
            return ChatButton(chat) if chat is not None else None
    return None


def _forget(parts: list[str]) -> Button | None:
    match parts:
        case ["forget", action, *_]:
            known = _enum(ForgetAction, action)
            return Forget(known) if known is not None else None
    return None


def _feedback(parts: list[str]) -> Button | None:
    match parts:
        case [question, code] if code:
            known = _enum(FeedbackQuestion, question)
            return Feedback(known, code) if known is not None else None
    return None


def _card(parts: list[str]) -> Button | None:
    match parts:
        case [action, ref] if _ref(ref):
            known = _enum(CardAction, action)
            return Card(known, ref) if known is not None else None
        case [action, ref, version] if (
            _ref(ref) and version.isascii() and version.isdigit() and len(version) < 10
        ):
            known = _enum(CardAction, action)
            return Card(known, ref, int(version)) if known is not None else None
    return None


def _safety(parts: list[str]) -> Button | None:
    match parts:
        case ["ok" | "urgent" as action]:
            return Safety(SafetyAction(action))
        case ["now", kind]:
            return Safety(SafetyAction.NOW, kind)  # an unknown kind: the general reply
    return None


_PARSERS = {
    Family.NOTICE: _notice,
    Family.MENU: _menu,
    Family.DISCLOSE: _disclose,
    Family.FINDER: _finder,
    Family.SUPPORT: _support,
    Family.MENTOR_AT: _mentor_at,
    Family.REQUEST: _request,
    Family.FORGET: _forget,
    Family.FEEDBACK: _feedback,
    Family.CARD: _card,
    Family.SAFETY: _safety,
}


def family_of(data: str) -> Family | None:
    """The family a button's data claims to belong to (nothing else is checked)."""
    head = data.split(":", 1)[0]
    return Family(head) if ":" in data and head in _PARSERS else None


def parse(data: str | None) -> Button | None:
    """The button this data is, or None when it is none of ours as it stands."""
    if not data or len(data.encode()) > MAX_DATA_BYTES:
        return None
    family = family_of(data)
    if family is None:
        return None
    return _PARSERS[family](data.split(":")[1:])
