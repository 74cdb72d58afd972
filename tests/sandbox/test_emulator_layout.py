"""The emulator stays in small modules, one job each, and modules stay small everywhere.

Why: the emulator was one class of about 1,600 lines doing four jobs. Now each job is a
class in its own module (state, Bot API methods, getUpdates, the person-side driver,
inspection, faults), composed into the same public `TelegramEmulator`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path

from bot.sandbox import TelegramEmulator
from bot.sandbox.emulator import driver, faults, inspection, methods, polling, state

ROOT = Path(__file__).resolve().parents[2]
EMULATOR = ROOT / "bot" / "sandbox" / "emulator"
MAX_EMULATOR_MODULE = 500
MAX_MODULE = 1_000


def line_counts(folder: Path) -> dict[str, int]:
    return {
        path.relative_to(ROOT).as_posix(): len(path.read_text("utf-8").splitlines())
        for path in sorted(folder.rglob("*.py"))
    }


def where(name: str) -> str:
    """The module that defines the emulator's attribute `name`."""
    attribute: Callable[..., object] = getattr(TelegramEmulator, name)
    return str(inspect.unwrap(attribute).__module__)


def test_the_emulator_is_a_package_of_small_modules() -> None:
    sizes = line_counts(EMULATOR)
    assert len(sizes) >= 8
    assert {name: n for name, n in sizes.items() if n > MAX_EMULATOR_MODULE} == {}


def test_no_module_of_the_bot_is_a_monolith() -> None:
    sizes: dict[str, int] = {}
    for package in ("bot", "conversations", "storage"):
        sizes |= line_counts(ROOT / package)
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE} == {}


def test_each_job_lives_in_its_own_module() -> None:
    assert all(impl.__module__ == methods.__name__ for impl in methods.METHODS.values())
    assert len(methods.METHODS) >= 25
    for name in ("register_user", "user_sends", "press_button", "block_bot", "redeliver"):
        assert where(name) == driver.__name__, name
    for name in ("chat", "bot_texts", "calls", "wait_for", "wait_until_idle"):
        assert where(name) == inspection.__name__, name
    for name in ("inject_fault", "enforce_rate_limit", "_rate_check"):
        assert where(name) == faults.__name__, name
    assert where("_get_updates") == polling.__name__
    assert where("__init__") == state.__name__
    assert issubclass(TelegramEmulator, state.EmulatorState)
