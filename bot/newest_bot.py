"""The bot every Application uses: PTB's ExtBot, noting each message it sends as the
newest in its chat (conversations/newest.py), so a pressed question is edited into the
next step only when nothing came after it.

Here rather than at each place that sends: a flow's reply, a guard's note, the
urgent-help numbers, the error apology, the outbox worker's relays and both doors all
send through this one bot. The bot sends only text (`send_message`); a new kind of send
would be noted here too.
"""

from __future__ import annotations

from typing import Any

from telegram import Message
from telegram.ext import ExtBot

from conversations.newest import NewestMessages


class NewestNotingBot(ExtBot[None]):
    __slots__ = ("newest",)

    def __init__(self, token: str, *, newest: NewestMessages, **kwargs: Any) -> None:
        super().__init__(token, **kwargs)
        with self._unfrozen():  # PTB freezes the bot at the end of its __init__
            self.newest = newest

    async def send_message(self, *args: Any, **kwargs: Any) -> Message:
        message = await super().send_message(*args, **kwargs)
        self.newest.note(message.chat_id, message.message_id)
        return message
