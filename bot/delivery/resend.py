"""A message sent again after a crash that may already have sent it says so.

Why: the Bot API has no idempotency key and no way to read a chat back, so a send a dead
process's journal left uncertain (the call went, no answer came) is sent again, and it
may show twice (bot/delivery/journal.py). A relayed "I can't make Tuesday" shown twice
reads as if the other side wrote it twice; a short label under the second copy tells
the reader why, and nothing about the other side. Web chats keep one copy per row
(their sends carry the row as origin), so they get no label: nothing shows twice there.

A text that would no longer fit in one Telegram message goes without the label: a
double that does not say so is better than a message that cannot go at all.
"""

from __future__ import annotations

from dataclasses import replace

from conversations import texts
from conversations.door import is_web_chat
from conversations.i18n import _
from conversations.relay import MAX_MESSAGE
from storage.repositories.outbox import Claimed, Kind, Ready, Send

# Kinds whose double would mislead: someone's words passed on, the number to call, and
# "I couldn't pass that on".
LABELLED: frozenset[str] = frozenset({Kind.RELAY, Kind.RELAY_FAILED, Kind.CONTACT})


def sent_again(text: str) -> str:
    """The text as a send again shows it: the label on a line of its own under it."""
    return f"{text}\n{_(texts.RELAY_SENT_AGAIN)}"


def labelled(row: Claimed, ready: Ready) -> Ready:
    """`ready` with the label, when `row` is a send again of a labelled kind after an
    uncertain attempt; otherwise `ready` unchanged."""
    payload = ready.payload
    if not row.uncertain or row.kind not in LABELLED or not isinstance(payload, Send):
        return ready
    if is_web_chat(ready.chat_id):
        return ready
    text = sent_again(payload.text)
    if len(text) > MAX_MESSAGE:
        return ready
    return replace(ready, payload=replace(payload, text=text))
