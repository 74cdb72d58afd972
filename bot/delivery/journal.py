"""The send journal: which outbox rows this process is sending, and which Telegram has
answered, written to a local file before the database hears of it.

Why: Telegram has no idempotency key, so a process that dies after Telegram applied a
send and before the database recorded it sends that message again (a double). The
database record is a commit (a few ms, tens under load, more when it queues behind the
step transactions on SQLite's one connection); an append to a local file is a write()
with no await in between, so the window where a crash doubles a message shrinks to
Telegram's answer reaching this process. A SIGKILL loses nothing written (the kernel
holds it); a power cut may lose the last lines (no fsync), which is only today's
double again.

Two lines per send, each `<mark> <outbox id> [<message id>]`:

    S <row>          the call is about to go (the row may have been sent from here on)
    B <row> <id>     a card's text is out without its buttons (they come next)
    D <row> <id|->   Telegram answered: sent, with the message id later edits need

A process keeps its own file (`<pid>-<random>.journal`), locked (flock) while it lives.
Before each claim the worker replays the files whose lock it can take (their process
is gone): a `D` row still open in the database is recorded as sent and is not sent
again; an `S` with no `D` is *uncertain*: the call may or may not have reached
Telegram, and nothing can ask. Policy: it is sent again (a possible double is better
than a possible loss for this service: a relayed "I can't make Tuesday" or a card that
never arrived hurts someone, a message shown twice does not), and each is counted in
`event=delivery_journal_replayed uncertain=N`. The file is emptied whenever nothing in
it is still unrecorded in the database.

Only this host's processes read a journal: with several hosts on one PostgreSQL, a
host that dies and does not come back leaves its sends to the lease (today's window).
Rows and message ids only: no chat id, no text.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("firststep.delivery")

SUFFIX = ".journal"
# Empty the file once it is this big and nothing in it is unrecorded.
COMPACT_BYTES = 64 * 1024


@dataclass(slots=True)
class Replay:
    """What a dead process's journal says."""

    sent: dict[str, int | None] = field(default_factory=dict)
    uncertain: set[str] = field(default_factory=set)
    shown: dict[str, int] = field(default_factory=dict)  # cards still to get buttons


def read_journal(text: str) -> Replay:
    """Parse a journal; a torn last line (the process died mid-write) is ignored."""
    replay = Replay()
    for line in text.splitlines():
        parts = line.split(" ")
        if len(parts) == 2 and parts[0] == "S":
            replay.uncertain.add(parts[1])
        elif len(parts) == 3 and parts[0] == "D":
            message = parts[2]
            replay.sent[parts[1]] = int(message) if message.isdigit() else None
        elif len(parts) == 3 and parts[0] == "B" and parts[2].isdigit():
            replay.shown[parts[1]] = int(parts[2])
    replay.uncertain -= set(replay.sent) | set(replay.shown)
    for row_id in replay.sent:
        replay.shown.pop(row_id, None)
    return replay


class SendJournal:
    """This process's journal file in `directory`, and the orphans of dead processes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path: Path | None = None
        self._fd: int | None = None
        self._open: set[str] = set()  # rows marked S and not yet recorded in the database

    def __repr__(self) -> str:
        return f"SendJournal(open={len(self._open)})"

    def start(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.directory / f"{os.getpid()}-{secrets.token_hex(4)}{SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.path, self._fd = path, fd

    def close(self) -> None:
        """A clean stop: the file goes if everything in it was recorded."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        if not self._open and self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        os.close(fd)

    def _write(self, line: str) -> None:
        if self._fd is not None:
            os.write(self._fd, line.encode("ascii"))

    def sending(self, row_id: str) -> None:
        self._open.add(row_id)
        self._write(f"S {row_id}\n")

    def shown(self, row_id: str, message_id: int) -> None:
        self._write(f"B {row_id} {message_id}\n")

    def sent(self, row_id: str, message_id: int | None) -> None:
        self._write(f"D {row_id} {'-' if message_id is None else message_id}\n")

    def settled(self, row_id: str) -> None:
        """The database has this row's outcome: the journal no longer needs it."""
        self._open.discard(row_id)
        if self._open or self._fd is None:
            return
        if os.fstat(self._fd).st_size >= COMPACT_BYTES:
            os.ftruncate(self._fd, 0)

    def orphans(self) -> list[tuple[Path, Replay]]:
        """Journals of processes that are gone (their lock is free), read; the caller
        records them and then calls `forget`."""
        found: list[tuple[Path, Replay]] = []
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            if path == self.path:
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its process is alive
                with os.fdopen(os.dup(fd), "r", encoding="ascii", errors="replace") as file:
                    found.append((path, read_journal(file.read())))
            finally:
                os.close(fd)
        return found

    @staticmethod
    def forget(path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
