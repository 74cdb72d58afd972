"""A stateful, in-memory Telegram Bot API: the one fake Telegram the project tests against.

Why: flows must be tested end to end (PTB's real Updater, envelope parsing and error mapping)
with no network. The emulator keeps what each chat would show on a phone, answers with
Telegram's own error texts, refuses what a real person could not do (press a button that is
not there), and can inject faults. Two thin front-ends expose it: ``EmulatorRequest`` (in
process, ``bot.sandbox.request``) and ``EmulatorServer`` (loopback HTTP, ``bot.sandbox.http``).

Where things are: ``state`` (what the server holds: chats, messages, updates, files),
``methods`` (the Bot API methods; checks on what is sent in ``content``, arguments in
``params``), ``polling`` (getUpdates), ``driver`` (what people do; ``media`` for their
photos and stickers), ``inspection`` (what tests read back, and waits), ``faults`` (injected
failures and rate limits), ``rules`` (Telegram's limits and error texts) and ``records``
(the public value types). ``core`` composes them into ``TelegramEmulator``.

Clock: Telegram-side times (message dates, the 24 h update expiry, the 15 s callback answer
window, the 48 h delete window, rate windows) come from the injectable ``clock``. Long-poll
waits, ``delay`` faults and ``wait_for`` use real time so tests stay bounded.

Threading: every state change takes one lock, and long-poll wake-ups are loop-safe, so the
driver may run on another thread than the front-end; normally all run on one event loop.
"""

from bot.sandbox.emulator.core import TelegramEmulator
from bot.sandbox.emulator.records import (
    ApiCall,
    ApiReply,
    CallbackAnswer,
    ChatMessage,
    EmulatedUser,
    EmulatorUsageError,
    Fault,
    Injected,
    ManualClock,
    UploadedFile,
)
from bot.sandbox.emulator.rules import MEDIA_KINDS

__all__ = [
    "MEDIA_KINDS",
    "ApiCall",
    "ApiReply",
    "CallbackAnswer",
    "ChatMessage",
    "EmulatedUser",
    "EmulatorUsageError",
    "Fault",
    "Injected",
    "ManualClock",
    "TelegramEmulator",
    "UploadedFile",
]
