"""The person's draft: what they chose along the way that is not an answer they gave.

One typed record, sealed in `people.draft_ct` with the person's own key and written in
the same statement as their step: the office they picked, the options ticked at an
open multi-choice question, a mentor request being put together (with a phone number
only if they shared one), and the reference of their live request.

Stored as a JSON object whose keys are the ones the first version of the bot wrote
(`office`, `ticked`, `mentor`, `ref`, `relayed`), so every row written before this
record existed reads back unchanged. A key it does not know is ignored, and a value
of the wrong type reads as absent, never as an error: a draft only ever holds choices
the bot can ask for again. The record's repr names which parts are set, never a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

# The stored form's keys (a test ties them to rows the old code wrote).
OFFICE_KEY: Final = "office"
TICKED_KEY: Final = "ticked"
REQUEST_KEY: Final = "mentor"
REF_KEY: Final = "ref"
RELAYED_KEY: Final = "relayed"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True, repr=False)
class RequestDraft:
    """A mentor request being put together, before it is sent. Each choice is None until
    made. `phone` is the person's own number, shared on purpose: it lives only here
    until the request is sent (storage/repositories/request_drafts.py lapses it)."""

    share: str | None = None
    contact: str | None = None
    phone: str | None = None
    time: str | None = None

    def __repr__(self) -> str:
        chosen = [name for name in ("share", "contact", "phone", "time") if getattr(self, name)]
        return f"RequestDraft(set={chosen})"

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> RequestDraft:
        return cls(
            share=_text(data.get("share")),
            contact=_text(data.get("contact")),
            phone=_text(data.get("phone")),
            time=_text(data.get("time")),
        )

    def to_stored(self) -> dict[str, Any]:
        stored = {
            "share": self.share,
            "contact": self.contact,
            "phone": self.phone,
            "time": self.time,
        }
        return {key: value for key, value in stored.items() if value is not None}


@dataclass(frozen=True, slots=True, repr=False)
class Draft:
    """The person's draft. Everything defaults to "nothing chosen"."""

    office: str | None = None  # an office id the person picked (finder, poster, request)
    ticked: tuple[str, ...] = ()  # options ticked at the open multi-choice question
    request: RequestDraft | None = None  # a mentor request in progress, if any
    ref: str | None = None  # the public reference of their live request
    relayed: bool = False  # told once that their messages reach their mentor

    def __repr__(self) -> str:
        parts = [name for name in ("office", "ticked", "ref", "relayed") if getattr(self, name)]
        request = f", request={self.request!r}" if self.request is not None else ""
        return f"Draft(set={parts}{request})"

    # -- the stored form -------------------------------------------------------------

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> Draft:
        """Read a stored draft, written by this version or any before it."""
        ticked = data.get(TICKED_KEY)
        request = data.get(REQUEST_KEY)
        return cls(
            office=_text(data.get(OFFICE_KEY)),
            ticked=tuple(t for t in ticked if isinstance(t, str))
            if isinstance(ticked, list)
            else (),
            request=RequestDraft.from_stored(request) if isinstance(request, dict) else None,
            ref=_text(data.get(REF_KEY)),
            relayed=data.get(RELAYED_KEY) is True,
        )

    def to_stored(self) -> dict[str, Any]:
        """The JSON object sealed in the row: only what is set, under the old keys."""
        stored: dict[str, Any] = {}
        if self.office is not None:
            stored[OFFICE_KEY] = self.office
        if self.ticked:
            stored[TICKED_KEY] = list(self.ticked)
        if self.request is not None:
            stored[REQUEST_KEY] = self.request.to_stored()
        if self.ref is not None:
            stored[REF_KEY] = self.ref
        if self.relayed:
            stored[RELAYED_KEY] = True
        return stored

    # -- the changes the flows make ----------------------------------------------------

    def with_office(self, office_id: str) -> Draft:
        """This office chosen (a poster's link), everything else kept."""
        return replace(self, office=office_id)

    def office_only(self) -> Draft:
        """Leaving a step's scratch data behind: only the chosen office stays."""
        return Draft(office=self.office)

    def settled(self, *, ref: str | None = None, relayed: bool = False) -> Draft:
        """Out of a request: the office stays, with the live request's reference if any;
        a request in progress (a shared number above all) goes."""
        return Draft(office=self.office, ref=ref, relayed=relayed)

    def fresh_request(self, office_id: str) -> Draft:
        """A new request at this office; anything from an earlier one dropped."""
        return Draft(office=office_id, request=RequestDraft())

    def with_request(self, **changes: str | None) -> Draft:
        """The request with these choices made (None takes one back); everything else but
        the office dropped. Starts a request if none is in progress."""
        request = replace(self.request or RequestDraft(), **changes)
        return Draft(office=self.office, request=request)

    def without_request(self) -> Draft:
        """The request in progress dropped, the rest kept."""
        return replace(self, request=None)

    def without_contact(self) -> Draft | None:
        """The request's contact detail, and the choice that asked for it, taken out;
        None when it holds none (so there is nothing to take)."""
        if self.request is None or self.request.phone is None:
            return None
        return replace(self, request=replace(self.request, phone=None, contact=None))
