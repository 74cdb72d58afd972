"""The benchmark code paths with tiny sizes, so `make bench` cannot rot unnoticed.

Structure only: every section runs end to end and reports what it should. No timing is
asserted (speed is measured by `make bench`, never by a test).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import __main__ as cli
from bench import disk, lookups, loopback, outbox, report, throughput, webchat
from bench.journey import JOURNEY, schedule
from bench.memory import measure_memory

pytestmark = pytest.mark.slow


def test_schedule_staggers_people_and_keeps_every_step_in_order() -> None:
    people = list(range(30))
    ticks = schedule(people)
    seen: dict[int, list[int]] = {}
    for tick in ticks:
        assert len({person for person, _ in tick}) == len(tick), "one step per person a tick"
        for person, index in tick:
            seen.setdefault(person, []).append(index)
    assert all(steps == list(range(len(JOURNEY))) for steps in seen.values())
    assert len(seen) == len(people)
    assert len({index for _, index in ticks[len(JOURNEY) - 1]}) == len(JOURNEY), "mixed ticks"


async def test_throughput_runs_both_bots_and_counts_every_update(
    database_url: str, tmp_path: Path
) -> None:
    result = await throughput.measure(database_url, tmp_path, people=2, rounds=2, warmup=1)
    summary = result.summary()
    assert summary["updates_per_round"] == 2 * len(JOURNEY)
    assert [len(r) for r in result.full.rounds] == [2 * len(JOURNEY)] * 2
    assert [len(r) for r in result.echo.rounds] == [2 * len(JOURNEY)] * 2
    assert summary["full_updates_per_s"] > 0 and summary["echo_updates_per_s"] > 0
    assert len(summary["ratio_rounds"]) == 2
    latency = summary["latency_us"]
    assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
    counts = summary["per_update"]
    assert counts["commits"] > 0 and counts["sql_statements"] >= counts["commits"]
    assert counts["bot_api_calls"] >= 1


async def test_memory_lookups_startup_disk_and_loopback_report(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'smoke.db'}"
    memory = await measure_memory(url, tmp_path, people=3, batch=2, warmup=1)
    assert memory["people"] == 3 and memory["rss_before_mb"] > 0
    kept = memory["entries_kept"]
    assert kept["ptb_user_ids_for_persistence"] == kept["ptb_user_data"] == 0
    assert 0 < kept["rate_windows"] <= 1 + 3 + 3  # warm-up, people, mentors: all recent
    assert kept["recent_update_ids"] > 0

    costs = lookups.lookup_costs(repeats=1, budget=0.001)
    assert set(costs) >= {"postcode_nearest_offices", "crisis_quiet_message", "town_misspelt"}
    assert all(value > 0 for value in costs.values())

    startup = await lookups.startup_seconds(
        f"sqlite+aiosqlite:///{tmp_path / 'start.db'}", tmp_path, runs=2
    )
    assert startup["first_start_s"] > 0 and startup["restart_s"] > 0

    floor = disk.commit_floor_us(tmp_path, commits=3)
    assert floor["sqlite_commit_full_us"] > 0 and floor["sqlite_commit_normal_us"] > 0

    http = await loopback.measure_http(
        f"sqlite+aiosqlite:///{tmp_path / 'http.db'}", tmp_path, people=2, rounds=1
    )
    assert http["full_updates_per_s"] > 0 and http["echo_updates_per_s"] > 0

    delivered = await outbox.measure_outbox(
        f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}", tmp_path, people=1
    )
    assert delivered["delivered"] == delivered["cards"] == delivered["mentors"]
    assert delivered["status_429"] == 0

    results = {
        "memory": memory,
        "lookups": costs,
        "startup": startup,
        "disk": floor,
        "http": http,
        "outbox": delivered,
        "skipped": {"postgres": "PostgreSQL is not answering"},
    }
    table = report.table(results)
    assert "Crisis check, everyday message" in table
    assert "postgres: not measured (PostgreSQL is not answering)" in table
    assert "PostgreSQL:" not in table  # not measured, not invented
    written = report.write(results, tmp_path / "results" / "latest.json")
    assert json.loads(written.read_text())["lookups"] == costs


def test_cli_writes_json_and_the_memory_child_answers(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    assert cli.main(["--quick", "--only", "disk", "--out", str(out)]) == 0
    assert set(json.loads(out.read_text())) >= {"disk", "machine", "sizes", "seconds"}

    child = cli.memory_in_child(f"sqlite+aiosqlite:///{tmp_path / 'child.db'}", 2)
    assert child["people"] == 2 and child["rss_after_mb"] > 0


def test_readme_shows_the_results_in_latest_json() -> None:
    """README's performance table is the last full run's, word for word."""
    results = json.loads(report.RESULTS.read_text(encoding="utf-8"))
    assert report.readme_block(results) in report.README.read_text(encoding="utf-8")


def test_update_readme_replaces_only_the_results_block(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(
        f"# Title\n\nBefore.\n\n{report.README_START}\nold table\n{report.README_END}\n\nAfter.\n"
    )
    results = json.loads(report.RESULTS.read_text(encoding="utf-8"))
    report.update_readme(results, readme)
    text = readme.read_text()
    assert text.startswith("# Title\n\nBefore.\n\n") and text.endswith("\n\nAfter.\n")
    assert "old table" not in text and report.readme_block(results) in text


async def test_the_web_chat_bench_times_every_reply_of_every_session(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'web.db'}"
    pace = webchat.Pace(ramp=0.5, think_min=0.6, think_max=0.8)
    result = await webchat.measure_webchat(url, tmp_path, sessions=3, pace=pace)
    assert result["messages"] == 3 * len(webchat.SCRIPT)
    assert result["unexpected_replies"] == 0 and result["refused"] == {}
    replies = result["reply_ms"]
    assert 0 < replies["p50"] <= replies["p99"] <= replies["max"]
    assert result["rss_open_mb"] > 0
    assert 10_000 < result["page"]["bytes"] < 60 * 1024
    assert 0 < result["page"]["gzipped_bytes"] < result["page"]["bytes"]
