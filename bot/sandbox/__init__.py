"""A local Telegram Bot API emulator (and, later, a web chat page) for tests and the sandbox.

``TelegramEmulator`` holds the state and the method semantics; ``EmulatorRequest`` plugs it
into PTB in process; ``EmulatorServer`` serves it over loopback HTTP.
"""

from bot.sandbox.emulator import (
    ApiCall,
    CallbackAnswer,
    ChatMessage,
    EmulatedUser,
    EmulatorUsageError,
    Fault,
    Injected,
    ManualClock,
    TelegramEmulator,
)
from bot.sandbox.http import EmulatorServer
from bot.sandbox.request import EmulatorRequest

__all__ = [
    "ApiCall",
    "CallbackAnswer",
    "ChatMessage",
    "EmulatedUser",
    "EmulatorRequest",
    "EmulatorServer",
    "EmulatorUsageError",
    "Fault",
    "Injected",
    "ManualClock",
    "TelegramEmulator",
]
