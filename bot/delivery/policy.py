"""How hard the worker tries: attempts, backoff, lease, polling and pace, from Settings."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from bot.settings import Settings


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    max_attempts: int = 8
    backoff_seconds: float = 1.0
    backoff_cap_seconds: float = 900.0
    lease_seconds: float = 60.0
    poll_seconds: float = 1.0
    messages_per_second: float = 25.0
    batch_size: int = 20
    concurrency: int = 8  # recipients served side by side within a batch

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            max_attempts=settings.delivery_max_attempts,
            backoff_seconds=settings.delivery_backoff_seconds,
            backoff_cap_seconds=settings.delivery_backoff_cap_seconds,
            lease_seconds=settings.delivery_lease_seconds,
            poll_seconds=settings.delivery_poll_seconds,
            messages_per_second=settings.delivery_messages_per_second,
        )

    @property
    def crash_loop_claims(self) -> int:
        """Claims without an outcome before a row is given up as a crash loop.

        A claim counts an attempt for every row of its batch, so one crash counts for rows
        that were never tried; a host restarting a few times must not cost a mentor their
        notification. Only an endless loop is stopped: five times the normal attempts.
        """
        return self.max_attempts * 5

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    def backoff(self, attempt: int, rng: random.Random) -> timedelta:
        """Delay after failed attempt `attempt` (1-based): base · 2^(attempt-1), capped,
        times a random factor in [0.5, 1] ("equal jitter"). The jitter spreads retries
        from many rows apart; keeping half the delay fixed keeps the gaps growing."""
        exponent = min(max(attempt - 1, 0), 32)
        delay = min(self.backoff_cap_seconds, self.backoff_seconds * 2.0**exponent)
        return timedelta(seconds=delay * rng.uniform(0.5, 1.0))
