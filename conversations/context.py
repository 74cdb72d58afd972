"""Typed context: the services every handler needs, set up once in post_init.

Lives in conversations/ so flows can use it without importing the bot layer above them;
`FlowSettings` lists the settings flows read, and bot.settings.Settings satisfies it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from telegram.ext import Application, CallbackContext, ExtBot

from storage.crypto import KeyRing
from storage.db import Database

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class FlowSettings(Protocol):
    """The settings conversations read (a structural view of bot.settings.Settings)."""

    @property
    def max_text_length(self) -> int: ...
    @property
    def rate_limit_messages(self) -> int: ...
    @property
    def rate_limit_window_seconds(self) -> float: ...
    @property
    def work_coach_policy(self) -> str: ...
    @property
    def safeguarding_policy(self) -> str: ...
    @property
    def voluntary_policy(self) -> str: ...
    @property
    def mentor_employer(self) -> str: ...
    @property
    def pilot_end(self) -> str: ...
    @property
    def operator_line(self) -> str: ...
    @property
    def retention_inactive_days(self) -> int: ...
    @property
    def retention_after_close_days(self) -> int: ...
    @property
    def chat_idle_close_days(self) -> int: ...
    @property
    def backup_erasure_days(self) -> int: ...
    @property
    def backup_main_days(self) -> int: ...
    @property
    def mentor_approval(self) -> bool: ...
    @property
    def join_attempts_per_hour(self) -> int: ...
    @property
    def ladder_office_reminder_minutes(self) -> float: ...
    @property
    def ladder_area_minutes(self) -> float: ...
    @property
    def ladder_coordinator_minutes(self) -> float: ...
    @property
    def referral_pending_max_days(self) -> int: ...
    @property
    def request_draft_max_hours(self) -> int: ...


@dataclass
class Services:
    """Long-lived objects shared by all handlers. Holds no personal data."""

    settings: FlowSettings
    database: Database
    ring: KeyRing
    clock: Clock = utc_now
    extras: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return "Services(...)"


SERVICES_KEY = "firststep.services"


class BotData(dict[str, Any]):
    """bot_data with a typed accessor for the services."""

    @property
    def services(self) -> Services:
        services = self.get(SERVICES_KEY)
        if services is None:
            raise RuntimeError("services are not set up yet (post_init has not run)")
        assert isinstance(services, Services)
        return services


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """CallbackContext with `context.services`."""

    @property
    def services(self) -> Services:
        return self.bot_data.services


FirstStepApp = Application[ExtBot[None], Context, dict[Any, Any], dict[Any, Any], BotData, Any]
