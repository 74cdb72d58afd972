"""The pilot report: aggregate counts from the real flows and the referrals table, small
numbers suppressed (the subtraction case included), CSVs, and a self-contained HTML page
that opens in headless Chromium (screenshot saved under test-output/)."""

from __future__ import annotations

import csv
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.report_html import render_report
from conversations import texts
from storage.crypto import KeyRing
from storage.db import Database
from storage.operations.report import PilotReport, build_report, is_published_value, table_rows
from storage.operations.retention import RetentionPolicy, purge
from storage.operations.suppression import HIDDEN, SMALL, unsafe_cells
from tests.support.harness import Harness
from tests.support.ops import ROOT, cli_env, firststep, make_referral

MONDAY = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)  # ISO week 2026-W02
HULL = "hull-britannia-house"
HACKNEY = "hackney-mare-street"
WIRRAL = "birkenhead-price-street"
NAMES = {
    HULL: "Hull Britannia House Jobcentre",
    HACKNEY: "Hackney Jobcentre (Mare Street)",
    WIRRAL: "Birkenhead Jobcentre",
}


def week(n: int) -> datetime:
    return MONDAY + timedelta(weeks=n)


# Referrals per office per week, as the test builds them: Hull has the "subtraction
# case" (3 in one week, 10 and 12 in the next two: total 25).
PLAN = {
    HULL: [3, 10, 12],
    HACKNEY: [6, 7, 9],
    WIRRAL: [0, 2, 8],
}


CLAIMED = sum(min(n, 4) for counts in PLAN.values() for n in counts)


async def seed_referrals(database: Database) -> None:
    for office, per_week in PLAN.items():
        for w, number in enumerate(per_week):
            for i in range(number):
                created = week(w) + timedelta(hours=i)
                claimed = created + timedelta(hours=2 + i) if i < 4 else None
                await make_referral(
                    database,
                    None,
                    office_id=office,
                    status="closed" if claimed else "pending",
                    created_at=created,
                    accepted_at=claimed,
                    closed_at=claimed + timedelta(days=3) if claimed else None,
                    ladder_step=min(i % 5, 3),
                    helped=("yes", "no", "a_bit")[i % 3] if claimed else None,
                    next_step=("training", "treatment")[i % 2] if claimed else None,
                )


def raw_office_week(report: PilotReport) -> list[list[int]]:
    """The true table, rebuilt from PLAN in the report's row and column order."""
    offices = report.referrals_by_office_week.row_labels
    by_label = {NAMES[office]: counts for office, counts in PLAN.items()}
    n_weeks = len(report.weeks)
    return [list(by_label.get(label, [0] * n_weeks)) for label in offices]


def subtraction_leaks(rows: list[list[str]]) -> list[str]:
    """The attack the brief names: a line with a shown total and exactly one hidden cell."""
    leaks = []
    header, *body = rows
    has_total = header[-1] == "Total"
    for row in body:
        cells = row[1:-1] if has_total else row[1:]
        hidden = [c for c in cells if c in (SMALL, HIDDEN)]
        if has_total and row[-1].isdigit() and len(hidden) == 1:
            leaks.append(row[0])
    return leaks


async def test_report_counts_suppression_and_subtraction_case(
    database: Database, ring: KeyRing
) -> None:
    await seed_referrals(database)
    report = await build_report(database, week(3))

    assert report.weeks == ("2026-W02", "2026-W03", "2026-W04")
    table = report.referrals_by_office_week
    hull = table.row_labels.index("Hull Britannia House Jobcentre")
    hull_row = table.published.cells[hull]
    assert hull_row[0] == SMALL
    assert table.published.row_totals is not None
    assert table.published.row_totals[hull] == "25"
    # 25 - 10 - 12 would give the 3 back: so another Hull cell is hidden too.
    assert sum(text in (SMALL, HIDDEN) for text in hull_row) >= 2
    assert subtraction_leaks(table_rows(table)) == []
    # And no combination of rows, columns and totals pins any hidden cell.
    assert unsafe_cells(raw_office_week(report), table.published) == []

    # Every published value is a count of 5 or more, "<5" or "*".
    for each in report.tables:
        for row in table_rows(each)[1:]:
            for text in row[1:]:
                assert is_published_value(text), (each.name, row)

    # The weekly referrals row is the office table's column totals (one protection).
    assert report.weekly.published.cells[-1] == table.published.col_totals
    # Ladder total and referral grand total are the same number, shown or hidden alike.
    assert report.ladder.published.row_totals == (table.published.grand_total,)

    # Time to first claim: the first 4 referrals of each office-week were claimed.
    overall = report.claim_times[0]
    assert overall.claims == str(CLAIMED)
    assert overall.median_hours != "" and "not shown" not in overall.median_hours
    assert "not shown" not in overall.p90_hours


async def test_report_after_purge_keeps_archived_referrals_as_counts(
    database: Database,
) -> None:
    await seed_referrals(database)
    before = await build_report(database, week(3))
    # A year on, the closed, unlinked referrals are purged into aggregate counters.
    removed = await purge(database, week(60), RetentionPolicy())
    # All are unlinked (no person) and a year old: metadata of every status goes.
    assert removed["referrals"] == sum(map(sum, PLAN.values()))
    after = await build_report(database, week(60), until=week(2).date())
    assert after.referrals_by_office_week.published == before.referrals_by_office_week.published
    assert after.ladder.published == before.ladder.published
    assert after.helped.published == before.helped.published
    # Times to claim need the rows: none are left to time.
    assert after.claim_times[0].claims == SMALL
    assert "not shown" in after.claim_times[0].median_hours


async def test_report_through_the_flows_and_the_cli(
    harness: Harness, database_url: str, tmp_path: Path
) -> None:
    """Counters recorded by the real flows: new contacts (notices accepted), disclosures;
    and nothing for someone who says "Not now"."""
    people = range(7_700_000_401, 7_700_000_407)  # six people
    for user in people:
        await harness.onboard(user)
    await harness.send(7_700_000_499, "/start")
    await harness.press(7_700_000_499, texts.BTN_NOT_NOW)
    for user in list(people)[:2]:  # two disclose: under 5
        await harness.press(user, texts.BTN_TELL)
        await harness.press(user, texts.OPTION_LABELS["alcohol"])
        await harness.press(user, texts.BTN_DONE)
        for _ in range(3):
            await harness.press(user, texts.BTN_SKIP)
        await harness.send(user, "report-canary-6612 my own words")
    await harness.stop()

    out = tmp_path / "report"
    ran = await firststep(tmp_path, cli_env(database_url), "report", "--out", str(out))
    assert ran.code == 0, ran.err
    with (out / "weekly_activity.csv").open(encoding="utf-8") as handle:
        rows = {row[0]: row[1:] for row in csv.reader(handle)}
    assert rows["New contacts (privacy notice accepted)"][-1] == "6"
    assert rows["Disclosures saved"][-1] == SMALL
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "report-canary-6612" not in html
    for user in people:
        assert str(user) not in html
    names = sorted(path.name for path in out.iterdir())
    assert names == [
        "ladder_steps.csv",
        "outcome_helped.csv",
        "outcome_next_step.csv",
        "poster_starts_by_office.csv",
        "referrals_by_office_week.csv",
        "report.html",
        "time_to_first_claim.csv",
        "weekly_activity.csv",
    ]


def _chromium() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.mark.browser
async def test_report_opens_in_headless_chromium(database: Database, tmp_path: Path) -> None:
    found = _chromium()
    if found is None:
        pytest.skip(
            "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        )
    browser, driver_path = found
    await seed_referrals(database)
    report = await build_report(database, datetime(2026, 1, 26, 9, 0, tzinfo=UTC))
    html = render_report(report)
    for forbidden in ("http://", "https://", "<script", "<link", "@import", "src="):
        assert forbidden not in html
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,2400"):
        options.add_argument(flag)
    os.environ.setdefault("SE_OFFLINE", "true")
    chrome = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        chrome.get(page.as_uri())
        assert chrome.title == "First Step pilot report"
        assert chrome.find_element(By.TAG_NAME, "h1").text == "First Step pilot report"
        charts = chrome.find_elements(By.CSS_SELECTOR, "svg[role=img]")
        assert len(charts) >= 8
        assert all(chart.size["width"] > 200 for chart in charts)
        cells = [c.text for c in chrome.find_elements(By.CSS_SELECTOR, "td")]
        assert SMALL in cells
        # Nothing was fetched: no resource entries at all.
        fetched = chrome.execute_script("return performance.getEntriesByType('resource').length")
        assert fetched == 0
        shots = ROOT / "test-output"
        shots.mkdir(exist_ok=True)
        height = chrome.execute_script("return document.documentElement.scrollHeight")
        chrome.set_window_size(1200, min(int(height) + 100, 12_000))
        chrome.save_screenshot(str(shots / "report.png"))
        assert (shots / "report.png").stat().st_size > 10_000
    finally:
        chrome.quit()


def test_report_names_every_feedback_answer_the_bot_offers() -> None:
    from storage.operations.report import ANSWER_LABELS, HELPED_ORDER, NEXT_STEP_ORDER

    assert set(HELPED_ORDER) == set(texts.FEEDBACK_HELPED_LABELS)
    assert set(NEXT_STEP_ORDER) == set(texts.FEEDBACK_NEXT_LABELS)
    assert set(ANSWER_LABELS) == set(HELPED_ORDER) | set(NEXT_STEP_ORDER)
