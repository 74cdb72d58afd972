"""The newest message in each chat, so a pressed question is edited into the next step
only when nothing came after it (conversations/outcome.py, `Replace`).

A question edited in place above newer messages (a /help the person asked for, a
mentor's reply) changes where nobody looks: on a phone the chat seems not to answer. So
the next step goes there only when the pressed message is the newest in the chat; else
it comes as a new message at the bottom.

Telegram numbers a private chat's messages in one rising sequence for both sides, so the
newest is the highest id seen: every message the bot sent (noted by the bot itself,
bot/newest_bot.py, whichever door or worker sent it) and every message the person sent
(noted first thing for each update, bot/language.py). A message id is no personal data;
the map is in memory only (like PTB's own chat_data, keyed by chat), never kept or
logged, and holds the chats heard from most recently, at most `max_chats` of them. A
chat it does not know (forgotten, or after a restart) counts as not newest: the next
step comes as a new message, which is always seen.
"""

from __future__ import annotations

from telegram import Chat, Update

from conversations.context import Context

# bot_data key: the one `NewestMessages` of this Application.
NEWEST_KEY = "firststep.newest_messages"


class NewestMessages:
    """Chat → the highest message id seen in it, the chats noted last kept."""

    __slots__ = ("_max", "_newest")

    def __init__(self, max_chats: int = 10_000) -> None:
        self._max = max_chats
        self._newest: dict[int, int] = {}  # insertion order: the chat noted least recently first

    def __repr__(self) -> str:
        return f"NewestMessages({len(self._newest)})"

    def __len__(self) -> int:
        return len(self._newest)

    def note(self, chat_id: int, message_id: int) -> None:
        newest = self._newest
        seen = newest.pop(chat_id, 0)
        newest[chat_id] = max(seen, message_id)
        if len(newest) > self._max:
            del newest[next(iter(newest))]

    def is_newest(self, chat_id: int, message_id: int) -> bool:
        """Whether nothing is known to have come after this message (an unknown chat: no)."""
        seen = self._newest.get(chat_id)
        return seen is not None and message_id >= seen


def newest_messages(context: Context) -> NewestMessages:
    """The map bot/app.py made (the same one its bot notes what it sends in)."""
    newest = context.bot_data[NEWEST_KEY]
    assert isinstance(newest, NewestMessages)
    return newest


def note_incoming(update: Update, context: Context) -> None:
    """The person's own message is the newest in their chat now."""
    message = update.message
    if message is not None and message.chat.type == Chat.PRIVATE:
        newest_messages(context).note(message.chat_id, message.message_id)
