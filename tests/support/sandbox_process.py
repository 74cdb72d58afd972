"""`firststep` as a child process that serves the sandbox, for the subprocess and browser tests.

Why a real process: it proves what a newcomer gets from `make run` (the URL line, a page
over loopback, a clean Ctrl-C), and it keeps the bot's event loop apart from Selenium's
blocking calls.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
URL_LINE = re.compile(r"open (http://127\.0\.0\.1:\d+/) in your browser")
START_BUDGET = 30.0


def loopback_opener() -> urllib.request.OpenerDirector:
    """urllib without proxies from the environment: loopback stays on this machine."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


class SandboxProcess:
    """Start `python -m bot <args>` in ``cwd`` with no FIRSTSTEP_* settings but ``env``."""

    def __init__(self, cwd: Path, *args: str, **env: str) -> None:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTSTEP_")}
        clean["PYTHONPATH"] = str(ROOT)
        clean["PYTHONUNBUFFERED"] = "1"
        clean.update(env)
        self.cwd = cwd
        self.stderr_path = cwd / "sandbox-stderr.txt"
        self._stderr = self.stderr_path.open("w")
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            cwd=cwd,
            env=clean,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stdout: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for_url(self, budget: float = START_BUDGET) -> tuple[str, float]:
        """The page address from the URL line, and the seconds it took to appear."""
        deadline = self.started_at + budget
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"the sandbox exited early: {self.stderr()}")
            self.stdout.append(line)
            match = URL_LINE.search(line)
            if match:
                return match.group(1), time.monotonic() - self.started_at
        raise AssertionError(f"no URL line within {budget:.0f} s; stderr: {self.stderr()}")

    def stop(self, signum: int = signal.SIGINT, timeout: float = 20.0) -> int:
        """Send ``signum`` and wait for the exit status; the rest of stdout is collected."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        code = self.process.wait(timeout=timeout)
        while (line := self.lines.get(timeout=5)) is not None:
            self.stdout.append(line)
        return code

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._reader.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()


def fetch(url: str, timeout: float = 10.0) -> tuple[int, str, dict[str, Any]]:
    """GET over loopback: status, text and headers."""
    with loopback_opener().open(url, timeout=timeout) as response:
        return response.status, response.read().decode("utf-8"), dict(response.headers)
