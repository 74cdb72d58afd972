"""A warm parent for the crash test: imports the bot once, then forks `firststep run`.

Why: under load a cold `python -m bot run` spends seconds importing, and the crash test
needs dozens of restarts. Each child is a real process running the same entry point
(`bot.cli.main` with argv `run`), killed with SIGKILL by the test; only the imports are
shared. Protocol on stdin/stdout, one line each: "spawn" → the child's pid; "quit".
`--once` runs one `firststep run` in this process instead.

`--broken mark-first` makes children run a deliberately wrong worker (it records a row
as sent before sending it), so the test can show its assertions catch lost messages.
`--broken direct-relay` sends relayed messages straight after the step's commit instead
of queueing them in the outbox (the code before issue 13). `--broken web-early-ack`
makes the web chat answer a message before it was handled (tests/webchat/test_web_crash.py).
`--broken journal-first` writes "sent" in the send journal before the call instead of
after the answer, so a restart records as sent what never went. `--broken
unlabelled-resend` sends a relay again after an uncertain attempt without saying so.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def _reap(_signum: int, _frame: object) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _install_mark_first() -> None:
    """Test-local broken variant: at most once instead of at least once."""
    from bot.delivery import worker as module
    from storage.repositories.outbox import mark_sent

    async def deliver(self: module.DeliveryWorker, row: object, ready: object) -> object:
        async with self.transaction() as connection:
            await mark_sent(connection, row, now=self.clock(), message_id=None)  # type: ignore[arg-type]
        await self.pacer.take()
        await self.bot.send_message(ready.chat_id, ready.payload.text)  # type: ignore[attr-defined]
        return module.Outcome.SENT

    module.DeliveryWorker.deliver = deliver  # type: ignore[assignment,method-assign]


def _install_direct_relay() -> None:
    """Test-local broken variant: relays sent after the commit, kept nowhere."""
    from conversations import outcome

    outcome.RELAY_ROUTE = outcome.Route.DIRECT


def _install_web_early_ack() -> None:
    """Test-local broken variant: the web chat answers a message before handling it."""
    import asyncio
    from typing import Any

    from bot.webchat import updates
    from conversations.context import FirstStepApp

    handle = updates.handle
    started: set[asyncio.Task[None]] = set()

    async def early(application: FirstStepApp, raw: dict[str, Any]) -> None:
        task = asyncio.get_running_loop().create_task(handle(application, raw))
        started.add(task)
        task.add_done_callback(started.discard)

    updates.handle = early


def _install_journal_first() -> None:
    """Test-local broken variant: the journal says "sent" before the call goes."""
    from bot.delivery.journal import SendJournal

    def sending(self: SendJournal, row_id: str) -> None:
        self._open.add(row_id)
        self._write(f"D {row_id} -\n")

    SendJournal.sending = sending  # type: ignore[method-assign]


def _install_unlabelled_resend() -> None:
    """Test-local broken variant: a send again looks like the first (no label)."""
    from bot.delivery import worker as module

    def sent_again(self: module.DeliveryWorker, row: object, ready: object) -> object:
        return ready

    module.DeliveryWorker.sent_again = sent_again  # type: ignore[assignment,method-assign]


def _install(broken: str | None) -> None:
    if broken == "web-early-ack":
        _install_web_early_ack()
    elif broken == "mark-first":
        _install_mark_first()
    elif broken == "direct-relay":
        _install_direct_relay()
    elif broken == "journal-first":
        _install_journal_first()
    elif broken == "unlabelled-resend":
        _install_unlabelled_resend()


def _child(log_path: Path, broken: str | None) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    code = 1
    try:
        _install(broken)
        from bot.cli import main

        sys.argv = ["firststep", "run"]
        main()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    finally:
        os._exit(code)


def serve(log_path: Path, broken: str | None) -> None:
    # Warm every import `firststep run` makes, without starting anything.
    import alembic.command  # noqa: F401
    import telegram.ext  # noqa: F401

    import bot.app
    import bot.cli
    import bot.runner  # noqa: F401
    import storage.migrate  # noqa: F401

    signal.signal(signal.SIGCHLD, _reap)
    print("ready", flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            return
        if command == "spawn":
            pid = os.fork()
            if pid == 0:
                _child(log_path, broken)
            print(pid, flush=True)


def run_once(broken: str | None) -> None:
    """`--once`: no fork, just `firststep run` here (with the broken worker if asked)."""
    _install(broken)
    from bot.cli import main

    sys.argv = ["firststep", "run"]
    main()


if __name__ == "__main__":
    arguments = sys.argv[1:]
    broken = arguments[arguments.index("--broken") + 1] if "--broken" in arguments else None
    if "--once" in arguments:
        run_once(broken)
    else:
        serve(Path(arguments[0]), broken)
