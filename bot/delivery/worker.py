"""The outbox worker: claim due rows with a lease, check, send, record. At least once.

A batch's life here: one statement leases due rows; one short transaction checks that
each may still be sent and decrypts it (`storage.repositories.outbox.prepare`); each send happens
outside any transaction; a short transaction per row records the outcome. A crash
between a send and its record leaves the row inflight, and once its lease runs out it
is sent again: a duplicate, never a loss (Telegram has no idempotency key). Duplicates
carry the same reference, and a relay sent again after an attempt the send journal left
uncertain says it is sent again (bot/delivery/resend.py). A send slower than its lease
can race the worker that took the row over: the first record wins (it need not hold the
lease), and the worker whose copy was not recorded deletes it, so the message later
edits reach is the only one.

Errors (DESIGN §7): RetryAfter pauses everyone (FloodGate) and reschedules without
counting an attempt; TimedOut, NetworkError and 5xx back off exponentially with jitter
and give up after `max_attempts` with a coordinator alert; Forbidden marks the
recipient unreachable at once (alerting coordinators about a mentor); BadRequest is
dead with an alert. Logs carry event names, kinds and reasons, never text or ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError, TimedOut
from telegram.ext import ExtBot

from bot.delivery.journal import SendJournal
from bot.delivery.limiter import BULK
from bot.delivery.pacing import FloodGate, Pacer, retry_after_seconds
from bot.delivery.policy import DeliveryPolicy
from bot.delivery.relay_failed import tell_relay_sender
from bot.delivery.resend import labelled
from bot.webchat.channel import ORIGIN_PARAM
from conversations.context import Clock, utc_now
from conversations.door import is_web_chat
from conversations.mentor import notices
from storage.crypto import KeyRing
from storage.db import Database
from storage.repositories import mentors
from storage.repositories.outbox import (
    Claimed,
    Edit,
    Kind,
    Ready,
    Reason,
    Send,
    Skip,
    Wait,
    alert_coordinators,
    claim_due,
    hold_behind,
    mark_dead,
    mark_sent,
    mark_shown,
    mark_unreachable,
    prepare,
    record_journal,
    recorded_message,
    referral_place,
    release,
    retry_later,
)

log = logging.getLogger("firststep.delivery")

# Edit failures that mean "nothing left to do": same text already, or the person
# deleted the message, or it is too old to edit.
HARMLESS_EDIT_ERRORS = (
    "message is not modified",
    "message to edit not found",
    "message can't be edited",
)


class Outcome(enum.Enum):
    SENT = "sent"
    RETRY = "retry"
    DEAD = "dead"
    BLOCKED = "blocked"  # the recipient blocked the bot: drop the rest of their lane
    PAUSED = "paused"  # flood control: stop this batch


class DeliveryWorker:
    """Sends what the outbox holds. `run_once` is one batch (tests drive it directly);
    `start`/`stop` run it as a background task inside the Application."""

    def __init__(
        self,
        bot: Bot,
        database: Database,
        ring: KeyRing,
        policy: DeliveryPolicy,
        *,
        clock: Clock = utc_now,
        gate: FloodGate | None = None,
        rng: random.Random | None = None,
        journal: SendJournal | None = None,
    ) -> None:
        self.bot = bot
        self.journal = journal
        self.database = database
        self.ring = ring
        self.policy = policy
        self.clock = clock
        self.gate = gate or FloodGate()
        self.pacer = Pacer(policy.messages_per_second)
        self.rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._serial: contextlib.AbstractAsyncContextManager[object] = (
            asyncio.Lock() if database.is_sqlite else contextlib.nullcontext()
        )
        self._recorder = _GroupRecord(self)

    def __repr__(self) -> str:
        return f"DeliveryWorker(running={self.running})"

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One short transaction. On SQLite the lanes queue here in turn: SQLite admits
        one writer, and its busy handler would otherwise sleep in growing steps."""
        async with self._serial, self.database.transaction() as connection:
            yield connection

    # -- running -------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.running:
            return
        self._stopping = False
        if self.journal is not None:
            self.journal.start()
        self._task = asyncio.create_task(self.run_forever(), name="firststep-delivery")

    async def stop(self, grace: float = 5.0) -> None:
        """Finish the row in hand, hand back the rest of the batch, then stop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.journal is not None:
            self.journal.close()

    def wake(self) -> None:
        """Look for due rows now (a handler just queued one) instead of at the next poll."""
        self._wake.set()

    async def run_forever(self) -> None:
        log.info("event=delivery_started")
        while not self._stopping:
            try:
                claimed = await self.run_once()
            except Exception as error:
                self._log_unexpected("delivery_loop_error", error)
                claimed = 0
            if claimed < self.policy.batch_size and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.policy.poll_seconds)
                self._wake.clear()
        log.info("event=delivery_stopped")

    async def drain(self, rounds: int = 1000) -> int:
        """Run batches until nothing is due now; how many rows were handled (tests)."""
        total = 0
        for _round in range(rounds):
            claimed = await self.run_once()
            total += claimed
            if not claimed:
                break
        return total

    async def run_once(self) -> int:
        """Claim one batch of due rows and deliver it; how many rows were claimed.

        The batch is checked and decrypted in one transaction. Then rows for one
        recipient go in order (an edit after its message, "accepted" before "closed");
        different recipients go side by side, up to `concurrency`, all through the one
        Pacer. Flood control, or stop(), hands the rows not yet tried back; a row to be
        tried again later holds back what follows it for the same recipient.
        """
        await self.gate.wait()
        rows = await self.claim()
        if not rows:
            return 0
        ready = await self.sort_out(rows)
        lanes: dict[tuple[str, str], list[Claimed]] = {}
        for row in rows:
            if row.id in ready:
                lanes.setdefault((row.recipient_kind, row.recipient_id), []).append(row)
        slots = asyncio.Semaphore(self.policy.concurrency)
        halted = False
        untried: list[Claimed] = []
        behind: list[tuple[Claimed, list[Claimed]]] = []

        async def lane(queue: list[Claimed]) -> None:
            nonlocal halted
            async with slots:
                for index, row in enumerate(queue):
                    if halted or self._stopping:
                        untried.extend(queue[index:])
                        return
                    outcome = await self._deliver_safely(row, ready[row.id])
                    if outcome in (Outcome.PAUSED, Outcome.RETRY):
                        # Tried again later: what came after it for this chat waits for it.
                        halted = halted or outcome is Outcome.PAUSED
                        if queue[index + 1 :]:
                            behind.append((row, queue[index + 1 :]))
                        return
                    if outcome is Outcome.BLOCKED:
                        # One 403 is enough: the rest for them is not even tried.
                        async with self.transaction() as connection:
                            for rest in queue[index + 1 :]:
                                await self._dead(connection, rest, Reason.UNREACHABLE)
                        return

        await asyncio.gather(*(lane(queue) for queue in lanes.values()))
        if untried or behind:
            async with self.transaction() as connection:
                await release(connection, untried)
                for leader, rest in behind:
                    await hold_behind(connection, leader, rest)
        return len(rows)

    async def claim(self) -> list[Claimed]:
        if self.journal is not None:
            await self.replay_journals(self.journal)
        async with self.transaction() as connection:
            return await claim_due(
                connection,
                now=self.clock(),
                lease=self.policy.lease,
                limit=self.policy.batch_size,
            )

    async def replay_journals(self, journal: SendJournal) -> None:
        """Before a claim: what dead processes' journals say they sent is recorded, so
        those rows are not sent again once their lease runs out."""
        for path, replay in journal.orphans():
            async with self.transaction() as connection:
                recorded, uncertain = await record_journal(
                    connection, replay.sent, replay.uncertain, self.clock(), replay.shown
                )
            journal.forget(path)
            log.info(
                "event=delivery_journal_replayed recorded=%d uncertain=%d", recorded, uncertain
            )

    async def sort_out(self, rows: list[Claimed]) -> dict[str, Ready]:
        """Check-before-send for the batch: record the rows that must not go (dead) or
        must wait; return the rest, decrypted, by row id."""
        ready: dict[str, Ready] = {}
        async with self.transaction() as connection:
            verdicts = await self.check(connection, rows)
            for row in rows:
                verdict = verdicts[row.id]
                if row.attempts > self.policy.crash_loop_claims:
                    # Claimed this often without an outcome: the worker keeps dying while it
                    # holds this row (a crash loop). Stop here and tell a person.
                    await self._dead(connection, row, Reason.GAVE_UP, alert=True)
                elif isinstance(verdict, Skip) and row.sent_message_id is not None:
                    # A card shown without its buttons, and the request moved on: it is
                    # out (no buttons is right now), so the edits saying so can reach it.
                    await mark_sent(
                        connection, row, now=self.clock(), message_id=row.sent_message_id
                    )
                elif isinstance(verdict, Skip):
                    # Obsolete or already unreachable is expected; unreadable is not.
                    alert = verdict.reason == Reason.UNDECRYPTABLE
                    await self._dead(connection, row, verdict.reason, alert=alert)
                elif isinstance(verdict, Wait):
                    await retry_later(
                        connection,
                        row,
                        at=self.clock() + _seconds(self.policy.poll_seconds),
                        reason=Reason.WAITING,
                        count_attempt=False,
                    )
                else:
                    ready[row.id] = verdict
        return ready

    async def check(
        self, connection: AsyncConnection, rows: list[Claimed]
    ) -> dict[str, Ready | Skip | Wait]:
        """Check-before-send and decrypt (see storage.repositories.outbox.prepare)."""
        return await prepare(connection, self.ring, rows)

    # -- one row ---------------------------------------------------------------------------
    async def _deliver_safely(self, row: Claimed, ready: Ready) -> Outcome:
        try:
            outcome = await self.deliver(row, ready)
        except Exception as error:
            # A bug or the database: count the attempt and back off, so one bad row can
            # neither stop the others nor be retried in a tight loop.
            self._log_unexpected("delivery_row_error", error)
            try:
                return await self._transient(row, Reason.ERROR)
            except Exception as again:
                self._log_unexpected("delivery_record_error", again)
                return Outcome.RETRY  # the lease runs out and the row is claimed again
        if self.journal is not None:
            self.journal.settled(row.id)  # the database has its outcome
        return outcome

    async def deliver(self, row: Claimed, ready: Ready) -> Outcome:
        """Send one checked row and record what happened."""
        await self.pacer.take()
        await self.gate.wait()  # last, so nothing slips out after a 429 elsewhere
        if self.clock() >= row.lease_until:
            # A long pause outlived our lease: another worker may hold the row by now.
            async with self.transaction() as connection:
                await release(connection, [row])
            return Outcome.RETRY
        ready = self.sent_again(row, ready)
        if self.journal is not None:
            self.journal.sending(row.id)
        try:
            if buttons_after(row, ready):
                message_id = await self.send_card(row, ready)
                if message_id is None:
                    return Outcome.SENT  # another delivery's copy is the card
            else:
                message_id = await self.send(ready, origin=row.id)
            if self.journal is not None:
                # Before anything else can run: this line is what keeps a crash from
                # here to the record below from sending the message again.
                self.journal.sent(row.id, message_id)
        except RetryAfter as error:
            return await self.on_retry_after(row, retry_after_seconds(error))
        except Forbidden:
            return await self.on_forbidden(row)
        except (BadRequest, ChatMigrated):
            return await self._permanent(row, Reason.BAD_REQUEST)
        except TimedOut:
            # The call may have been applied and only its answer lost: uncertain, like a
            # crash before the answer (a send again of a relay says so).
            sent = isinstance(ready.payload, Send)
            return await self._transient(row, Reason.TIMED_OUT, uncertain=sent)
        except TelegramError:
            return await self._transient(row, Reason.NETWORK)
        if self.journal is None:
            async with self.transaction() as connection:
                other = await self._record_sent(connection, row, message_id)
        else:
            other = await self._recorder.record(row, message_id)
        if other is not None and isinstance(ready.payload, Send) and other != message_id:
            await self.drop_duplicate(ready.chat_id, message_id)
        log.debug("event=delivery_sent kind=%s attempt=%d", row.kind, row.attempts)
        return Outcome.SENT

    def sent_again(self, row: Claimed, ready: Ready) -> Ready:
        """A relay sent again after an attempt a crash left uncertain says so (it may show
        twice; bot/delivery/resend.py)."""
        return labelled(row, ready)

    async def send_card(self, row: Claimed, ready: Ready) -> int | None:
        """A card in two calls: its text, recorded, then its buttons on that message. A
        crash or a lost answer before the record sends the text again, so the copy
        nobody recorded has no buttons: nothing on it looks as if it still works, and
        every copy that has buttons is one later edits reach (issue 13 item 8). The
        message id, or None when another delivery recorded its own copy first."""
        payload = ready.payload
        assert isinstance(payload, Send) and payload.markup is not None
        shown = row.sent_message_id
        if shown is None:
            text_only = Ready(chat_id=ready.chat_id, payload=replace(payload, markup=None))
            first = await self.send(text_only)
            assert first is not None
            if self.journal is not None:
                self.journal.shown(row.id, first)
            async with self.transaction() as connection:
                shown = await mark_shown(connection, row.id, first)
            if shown != first:
                # Another delivery's copy was recorded first (ours outlived our lease):
                # that one gets the buttons; ours goes.
                await self.drop_duplicate(ready.chat_id, first)
                return None
            await self.pacer.take()
        try:
            await self.bot.edit_message_reply_markup(
                chat_id=ready.chat_id,
                message_id=shown,
                reply_markup=InlineKeyboardMarkup.de_json(payload.markup, self.bot),
                **self._bulk,
            )
        except BadRequest as error:
            # Already there (a crash after the edit), or the mentor deleted the card.
            if not any(part in error.message.lower() for part in HARMLESS_EDIT_ERRORS):
                raise
        return shown

    async def _record_sent(
        self, connection: AsyncConnection, row: Claimed, message_id: int | None
    ) -> int | None:
        """Record one send; the message id another delivery recorded first, if one did."""
        if await mark_sent(connection, row, now=self.clock(), message_id=message_id):
            return None
        return await recorded_message(connection, row.id)

    @property
    def _bulk(self) -> dict[str, Any]:
        """Marks the worker's sends as bulk for the rate limiter, so replies to people go
        first (PTB takes the argument only from an ExtBot that has a rate limiter)."""
        limited = isinstance(self.bot, ExtBot) and self.bot.rate_limiter is not None
        return {"rate_limit_args": BULK} if limited else {}

    async def drop_duplicate(self, chat_id: int, message_id: int | None) -> None:
        """Our send outlived its lease and another worker's copy was recorded first: take
        ours back, so the one message left is the one later edits reach (a card must not
        keep an Accept button nothing can remove). Best effort: a failure leaves the
        duplicate, as a crash would."""
        if message_id is None:
            return
        try:
            await self.bot.delete_message(chat_id, message_id, **self._bulk)
        except TelegramError as error:
            log.info("event=delivery_duplicate_kept type=%s", type(error).__name__)
            return
        log.info("event=delivery_duplicate_dropped")

    async def send(self, ready: Ready, origin: str | None = None) -> int | None:
        """One Bot API call; returns the message id to record (for later edits). A web
        chat's call names the row (`origin`), so a resend after a crash is kept once."""
        payload = ready.payload
        extra: dict[str, Any] = dict(self._bulk)
        if origin is not None and is_web_chat(ready.chat_id):
            extra["api_kwargs"] = {ORIGIN_PARAM: f"{origin}:{ready.payload.__class__.__name__}"}
        markup = (
            InlineKeyboardMarkup.de_json(payload.markup, self.bot)
            if payload.markup is not None
            else None
        )
        if isinstance(payload, Edit):
            assert ready.edit_message_id is not None
            try:
                await self.bot.edit_message_text(
                    payload.text,
                    chat_id=ready.chat_id,
                    message_id=ready.edit_message_id,
                    reply_markup=markup,
                    parse_mode=None,
                    **extra,
                )
            except BadRequest as error:
                if not any(part in error.message.lower() for part in HARMLESS_EDIT_ERRORS):
                    raise
            return ready.edit_message_id
        message = await self.bot.send_message(
            ready.chat_id,
            payload.text,
            reply_markup=markup,
            protect_content=payload.protect,
            parse_mode=None,
            **extra,
        )
        return message.message_id

    # -- outcomes --------------------------------------------------------------------------
    async def on_retry_after(self, row: Claimed, seconds: float) -> Outcome:
        """Flood control: nobody gets anything until it has passed; no attempt counted."""
        self.gate.hold(seconds)
        async with self.transaction() as connection:
            await retry_later(
                connection,
                row,
                at=self.clock() + _seconds(seconds),
                reason=Reason.RETRY_AFTER,
                count_attempt=False,
            )
        log.warning("event=delivery_flood_control seconds=%.1f", seconds)
        return Outcome.PAUSED

    async def on_forbidden(self, row: Claimed) -> Outcome:
        """Blocked: permanent for this recipient. No retry; coordinators hear of a mentor."""
        async with self.transaction() as connection:
            await mark_unreachable(connection, row.recipient_kind, row.recipient_id)
            await self._dead(
                connection,
                row,
                Reason.UNREACHABLE,
                alert=row.recipient_kind == "mentor",
            )
        return Outcome.BLOCKED

    async def _permanent(self, row: Claimed, reason: Reason) -> Outcome:
        async with self.transaction() as connection:
            await self._dead(connection, row, reason, alert=True)
        return Outcome.DEAD

    async def _transient(self, row: Claimed, reason: Reason, *, uncertain: bool = False) -> Outcome:
        """Back off (base · 2^n with jitter), or give up after the last attempt.
        `uncertain`: the attempt may have reached Telegram (the row is marked so)."""
        if row.attempts >= self.policy.max_attempts:
            return await self._permanent(row, Reason.GAVE_UP)
        delay = self.policy.backoff(row.attempts, self.rng)
        async with self.transaction() as connection:
            await retry_later(
                connection,
                row,
                at=self.clock() + delay,
                reason=Reason.UNCERTAIN if uncertain else reason,
            )
        log.info(
            "event=delivery_retry kind=%s reason=%s attempt=%d", row.kind, reason, row.attempts
        )
        return Outcome.RETRY

    async def _dead(
        self,
        connection: AsyncConnection,
        row: Claimed,
        reason: Reason,
        *,
        alert: bool = False,
    ) -> None:
        """Never to be sent. `alert`: a coordinator must hear of it (a failure found now,
        not an expected skip such as obsolete or already unreachable)."""
        if not await mark_dead(connection, row, reason):
            return  # no longer ours (reclaimed after our lease ran out, or cancelled)
        level = logging.WARNING if alert else logging.INFO
        log.log(level, "event=delivery_dead kind=%s reason=%s", row.kind, reason)
        if alert:
            await self._alert(connection, row, reason)
        told = row.kind == Kind.RELAY and reason != Reason.OBSOLETE
        if told and await tell_relay_sender(connection, self.ring, row, now=self.clock()):
            self.wake()

    async def _alert(self, connection: AsyncConnection, row: Claimed, reason: Reason) -> None:
        """Tell coordinators: the referral's reference and office, the mentor it was for
        (first name and office), and a reason; nothing about the person."""
        if row.kind == Kind.ALERT:
            log.error("event=delivery_alert_failed reason=%s", reason)
            return
        place = await referral_place(connection, row.referral_id)
        mentor = (
            await mentors.label_of(connection, self.ring, row.recipient_id)
            if row.recipient_kind == "mentor"
            else None
        )
        text = notices.delivery_alert(reason, place, mentor)
        queued = await alert_coordinators(
            connection,
            self.ring,
            about=row.id,
            text=text,
            now=self.clock(),
            referral_id=row.referral_id,
        )
        if queued:
            log.warning("event=delivery_alert_queued reason=%s coordinators=%d", reason, queued)
            self.wake()
        else:
            log.error("event=delivery_alert_no_coordinator reason=%s", reason)

    @staticmethod
    def _log_unexpected(event: str, error: BaseException) -> None:
        """Type only: an exception's text may hold message content or ids."""
        log.error(
            "event=%s rid=%s type=%s.%s",
            event,
            secrets.token_hex(4),
            type(error).__module__,
            type(error).__qualname__,
        )


class _GroupRecord:
    """With a journal: sends are recorded a few at a time, in one transaction.

    Why: on SQLite a commit runs on the event loop (storage/db.py) and blocks it while
    the disk syncs, so with one commit per send the answers of the other lanes wait
    behind it before they reach the journal, and a crash in that wait sends them again.
    A short pause first lets every answer that has arrived reach the journal; then one
    commit records them all. Each send still waits for its record before its lane goes
    on (an edit never overtakes the record of the message it edits).
    """

    PAUSE_SECONDS = 0.01

    def __init__(self, worker: DeliveryWorker) -> None:
        self.worker = worker
        self.pending: list[tuple[Claimed, int | None, asyncio.Future[int | None]]] = []
        self.task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"_GroupRecord(pending={len(self.pending)})"

    async def record(self, row: Claimed, message_id: int | None) -> int | None:
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self.pending.append((row, message_id, future))
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self.flush(), name="firststep-delivery-record")
        return await future

    async def flush(self) -> None:
        while self.pending:
            await asyncio.sleep(self.PAUSE_SECONDS)
            batch, self.pending = self.pending, []
            try:
                async with self.worker.transaction() as connection:
                    results = [
                        await self.worker._record_sent(connection, row, message_id)
                        for row, message_id, _ in batch
                    ]
            except Exception as error:
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, _, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)


# Kinds sent text first, buttons second (see DeliveryWorker.send_card).
BUTTONS_AFTER: frozenset[str] = frozenset({Kind.CARD, Kind.REMINDER})


def buttons_after(row: Claimed, ready: Ready) -> bool:
    payload = ready.payload
    return row.kind in BUTTONS_AFTER and isinstance(payload, Send) and payload.markup is not None


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)
