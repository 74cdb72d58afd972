"""The pilot report's figures: aggregate counters and referral metadata, never a person.

Sources: `event_counts` (first contacts, notices accepted, disclosures saved, starts from
an office's link by source: a poster's Telegram or web chat code, or another link; and the
`archived.*` counters that the retention purge writes when it deletes
old referral metadata) and the `referrals` table (office, dates, ladder step, feedback:
no person id, no reference is read). Every count is published through
storage/operations/suppression.py: under 5 shows as "<5", and totals cannot be used to work a
small count back out. The renderer (bot/report_html.py) and the CSV writer only ever
see the published strings.
"""

from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import median

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database
from storage.directory import all_offices, office_by_id
from storage.models import EventCount, Referral
from storage.operations.retention import (
    ARCHIVED_HELPED,
    ARCHIVED_LADDER,
    ARCHIVED_NEXT_STEP,
    ARCHIVED_REFERRAL,
)
from storage.operations.suppression import (
    HIDDEN,
    SMALL,
    THRESHOLD,
    Published,
    grand_total_of,
    suppress,
    suppress_series,
)
from storage.repositories.updates import DEEP_LINK, POSTER_TELEGRAM, POSTER_WEB

# Counters the flows record (storage.repositories.updates.record_event). Someone who leaves before
# accepting the privacy notice is not counted at all: nothing is kept before that.
NOTICE_ACCEPTED = "notice_accepted"
DISCLOSURE_SAVED = "disclosure_saved"
# Starts from an office's link, by where the link was (conversations/person/entry.py).
ENTRY_SOURCES = (
    (POSTER_TELEGRAM, "Poster: Telegram code"),
    (POSTER_WEB, "Poster: web chat code"),
    (DEEP_LINK, "Other link to the office"),
)

WEEKLY_MEASURES = (
    (NOTICE_ACCEPTED, "New contacts (privacy notice accepted)"),
    (DISCLOSURE_SAVED, "Disclosures saved"),
)
LADDER_STEPS = (
    "No reminder needed",
    "Office mentors reminded",
    "Offered to the whole pilot area",
    "Coordinator alerted",
)
# Feedback answer codes (conversations/person/feedback.py) and how the report names them.
HELPED_ORDER = ("yes", "a_bit", "no")
NEXT_STEP_ORDER = ("treatment", "training", "volunteering", "work", "not_yet")
ANSWER_LABELS = {
    "yes": "Yes",
    "a_bit": "A bit",
    "no": "No",
    "treatment": "Treatment",
    "training": "Training",
    "volunteering": "Volunteering",
    "work": "Work",
    "not_yet": "Not yet",
}
SAFE_ANSWER = re.compile(r"^[a-z_]{1,16}$")
MEDIAN_MIN_CLAIMS = THRESHOLD
P90_MIN_CLAIMS = 10


@dataclass(frozen=True, slots=True)
class ReportTable:
    """One published table: labels and strings only."""

    name: str  # CSV file stem
    title: str
    note: str
    row_header: str
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]
    published: Published


@dataclass(frozen=True, slots=True)
class ClaimTime:
    scope: str
    claims: str
    median_hours: str
    p90_hours: str


@dataclass(frozen=True, slots=True)
class PilotReport:
    generated_at: datetime
    first_week: date | None
    last_week: date | None
    weeks: tuple[str, ...]
    weekly: ReportTable
    referrals_by_office_week: ReportTable
    ladder: ReportTable
    helped: ReportTable
    next_step: ReportTable
    poster_starts: ReportTable
    claim_times: tuple[ClaimTime, ...]
    notes: tuple[str, ...]

    @property
    def tables(self) -> tuple[ReportTable, ...]:
        return (
            self.weekly,
            self.referrals_by_office_week,
            self.ladder,
            self.helped,
            self.next_step,
            self.poster_starts,
        )


@dataclass(frozen=True, slots=True)
class _Referral:
    office_id: str
    created: date
    claim_hours: float | None
    ladder_step: int
    helped: str | None
    next_step: str | None


def _prefix(template: str) -> str:
    return template.split("{", 1)[0]


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_label(start: date) -> str:
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


def _answer(value: str | None) -> str | None:
    """Feedback values come from buttons; anything else is not shown at all."""
    return value if value is not None and SAFE_ANSWER.fullmatch(value) else None


async def _load(
    connection: AsyncConnection, since: date | None, until: date | None
) -> tuple[list[tuple[date, str, str, int]], list[_Referral]]:
    counts_query = select(EventCount.day, EventCount.event, EventCount.office_id, EventCount.count)
    if since is not None:
        counts_query = counts_query.where(EventCount.day >= since)
    if until is not None:
        counts_query = counts_query.where(EventCount.day <= until)
    counts = [
        (row[0], row[1], row[2], int(row[3]))
        for row in (await connection.execute(counts_query)).all()
    ]
    referral_query = select(
        Referral.office_id,
        Referral.created_at,
        Referral.accepted_at,
        Referral.ladder_step,
        Referral.feedback_helped,
        Referral.feedback_next_step,
    )
    referrals: list[_Referral] = []
    for row in (await connection.execute(referral_query)).all():
        created = row.created_at.astimezone(UTC).date()
        if (since is not None and created < since) or (until is not None and created > until):
            continue
        hours = (
            (row.accepted_at - row.created_at).total_seconds() / 3600
            if row.accepted_at is not None
            else None
        )
        referrals.append(
            _Referral(
                office_id=row.office_id,
                created=created,
                claim_hours=hours,
                ladder_step=max(0, min(int(row.ladder_step), len(LADDER_STEPS) - 1)),
                helped=_answer(row.feedback_helped),
                next_step=_answer(row.feedback_next_step),
            )
        )
    return counts, referrals


def _percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (no interpolation between two people's times)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def _hours(value: float) -> str:
    return f"{value:.1f}"


def _office_name(office_id: str) -> str:
    office = office_by_id(office_id, include_unoffered=True)
    return office.name if office is not None else office_id


def _answers_table(
    name: str, title: str, tallies: dict[str, int], order: Sequence[str]
) -> ReportTable:
    keys = [k for k in order if k in tallies] + sorted(k for k in tallies if k not in order)
    labels = tuple(ANSWER_LABELS.get(k, k.replace("_", " ").capitalize()) for k in keys)
    values = [tallies[k] for k in keys] or [0]
    return ReportTable(
        name=name,
        title=title,
        note="Answers people gave when a referral closed; each answer counted once.",
        row_header="Answer",
        row_labels=("Referrals",),
        col_labels=labels or ("(no answers yet)",),
        published=suppress_series(values),
    )


async def build_report(
    database: Database,
    now: datetime,
    *,
    since: date | None = None,
    until: date | None = None,
) -> PilotReport:
    """Everything the report shows, already suppressed."""
    async with database.engine.connect() as connection:
        counts, referrals = await _load(connection, since, until)

    days = [day for day, *_ in counts] + [r.created for r in referrals]
    first = monday(since) if since else (monday(min(days)) if days else None)
    last = monday(until) if until else (monday(max(days)) if days else None)
    weeks: list[date] = []
    if first is not None and last is not None:
        cursor = first
        while cursor <= last:
            weeks.append(cursor)
            cursor += timedelta(days=7)
    week_index = {start: i for i, start in enumerate(weeks)}
    labels = tuple(week_label(start) for start in weeks)
    n_weeks = max(1, len(weeks))

    # Offices: every pilot office we offer, plus any office that appears in the data.
    offered = [o.office_id for o in sorted(all_offices(), key=lambda o: (o.pilot_area, o.name))]
    offered = [o for o in offered if office_by_id(o) is not None]
    entry_index = {event: i for i, (event, _) in enumerate(ENTRY_SOURCES)}
    seen_offices = {r.office_id for r in referrals} | {
        office
        for _, event, office, _ in counts
        if event == ARCHIVED_REFERRAL or event in entry_index
    }
    offices = offered + sorted(seen_offices - set(offered))
    office_index = {office: i for i, office in enumerate(offices)}

    weekly_values = [[0] * n_weeks for _ in WEEKLY_MEASURES]
    by_office_week = [[0] * n_weeks for _ in offices]
    entries = [[0] * len(ENTRY_SOURCES) for _ in offices]
    ladder = [0] * len(LADDER_STEPS)
    helped: dict[str, int] = defaultdict(int)
    next_step: dict[str, int] = defaultdict(int)
    measure_index = {event: i for i, (event, _) in enumerate(WEEKLY_MEASURES)}

    for day, event, office, number in counts:
        column = week_index.get(monday(day))
        if event in measure_index and column is not None:
            weekly_values[measure_index[event]][column] += number
        elif event in entry_index and office in office_index:
            entries[office_index[office]][entry_index[event]] += number
        elif event == ARCHIVED_REFERRAL and column is not None and office in office_index:
            by_office_week[office_index[office]][column] += number
        elif event.startswith(_prefix(ARCHIVED_LADDER)):
            step = event.removeprefix(_prefix(ARCHIVED_LADDER))
            ladder[max(0, min(int(step), len(LADDER_STEPS) - 1)) if step.isdigit() else 0] += number
        elif event.startswith(_prefix(ARCHIVED_HELPED)):
            value = _answer(event.removeprefix(_prefix(ARCHIVED_HELPED)))
            if value:
                helped[value] += number
        elif event.startswith(_prefix(ARCHIVED_NEXT_STEP)):
            value = _answer(event.removeprefix(_prefix(ARCHIVED_NEXT_STEP)))
            if value:
                next_step[value] += number

    claims: dict[str, list[float]] = defaultdict(list)
    for referral in referrals:
        column = week_index.get(monday(referral.created))
        if column is not None:
            by_office_week[office_index[referral.office_id]][column] += 1
        ladder[referral.ladder_step] += 1
        if referral.helped:
            helped[referral.helped] += 1
        if referral.next_step:
            next_step[referral.next_step] += 1
        if referral.claim_hours is not None:
            claims[referral.office_id].append(referral.claim_hours)

    office_labels = tuple(_office_name(office) for office in offices)
    # Referrals per office per week, and the ladder (whose total is the same number):
    # if either table must hide that total, both hide it.
    hide_total = False
    for _ in range(3):
        referral_table = suppress(by_office_week, hide_grand_total=hide_total)
        ladder_table = suppress_series(ladder, hide_total=hide_total)
        shown = {grand_total_of(referral_table), grand_total_of(ladder_table)}
        if len(shown) == 1:
            break
        hide_total = True
    weekly_table = suppress(weekly_values, row_totals=True, col_totals=False)
    referral_row = referral_table.col_totals or ()
    referral_total = referral_table.grand_total or SMALL
    weekly = Published(
        cells=(*weekly_table.cells, tuple(referral_row)),
        row_totals=(*(weekly_table.row_totals or ()), referral_total),
        col_totals=None,
        grand_total=None,
    )

    all_claims = [hours for office_claims in claims.values() for hours in office_claims]
    claim_counts = [len(claims.get(office, [])) for office in offices]
    claim_table = suppress_series(claim_counts) if offices else suppress_series([0])
    claim_times = [_claim_time("All pilot offices", all_claims, grand_total_of(claim_table))]
    for index, office in enumerate(offices):
        if claim_counts[index]:
            shown_count = claim_table.cells[0][index]
            claim_times.append(_claim_time(office_labels[index], claims[office], shown_count))

    notes = (
        "Counts under 5 are shown as <5. A * hides a larger count so that a small one "
        "cannot be worked out from the totals.",
        "Weeks run Monday to Sunday (UTC) and are labelled by ISO week.",
        "Referrals older than the retention period are kept only as counts: they appear "
        "in referrals per week, ladder steps and outcomes, but not in times to claim.",
        "Times to first claim are shown only for 5 claims or more (the 90th percentile "
        "for 10 or more), and use nearest-rank percentiles.",
        "No person data is used: no names, ids, references or anything anyone wrote.",
    )
    return PilotReport(
        generated_at=now,
        first_week=weeks[0] if weeks else None,
        last_week=weeks[-1] if weeks else None,
        weeks=labels,
        weekly=ReportTable(
            name="weekly_activity",
            title="Activity per week",
            note="New contacts (people who accepted the privacy notice), disclosures "
            "saved and referrals made. Nothing about a person is kept before they accept "
            "the notice; a start from a Jobcentre's link or poster is counted (office and "
            "source only) in the table of starts.",
            row_header="Measure",
            row_labels=(*(label for _, label in WEEKLY_MEASURES), "Referrals made"),
            col_labels=labels or ("(no data yet)",),
            published=weekly,
        ),
        referrals_by_office_week=ReportTable(
            name="referrals_by_office_week",
            title="Referrals per office per week",
            note="Requests for a peer mentor, by the Jobcentre chosen and the week made.",
            row_header="Jobcentre",
            row_labels=office_labels,
            col_labels=labels or ("(no data yet)",),
            published=referral_table,
        ),
        ladder=ReportTable(
            name="ladder_steps",
            title="Unclaimed ladder: furthest step reached",
            note="How far each referral went up the ladder before a mentor claimed it.",
            row_header="Step",
            row_labels=("Referrals",),
            col_labels=LADDER_STEPS,
            published=ladder_table,
        ),
        helped=_answers_table("outcome_helped", "Outcome: did it help?", helped, HELPED_ORDER),
        next_step=_answers_table(
            "outcome_next_step",
            "Outcome: next step",
            next_step,
            NEXT_STEP_ORDER,
        ),
        poster_starts=ReportTable(
            name="poster_starts_by_office",
            title="Starts from a Jobcentre's poster or link",
            note="Starts of the bot from an office's link, by where the link was: the "
            "Telegram code or the web chat code on a printed poster (firststep poster), or "
            "any other link to the office. Each start is counted; nothing says who it was.",
            row_header="Jobcentre",
            row_labels=office_labels or ("(no offices)",),
            col_labels=tuple(label for _, label in ENTRY_SOURCES),
            published=suppress(entries or [[0] * len(ENTRY_SOURCES)], col_totals=False),
        ),
        claim_times=tuple(claim_times),
        notes=notes,
    )


def _claim_time(scope: str, hours: Sequence[float], shown_count: str | None) -> ClaimTime:
    count = len(hours)
    too_few = "not shown (fewer than 5 claims)"
    return ClaimTime(
        scope=scope,
        claims=shown_count or SMALL,
        median_hours=_hours(median(hours)) if count >= MEDIAN_MIN_CLAIMS else too_few,
        p90_hours=(
            _hours(_percentile(hours, 0.9))
            if count >= P90_MIN_CLAIMS
            else "not shown (fewer than 10 claims)"
        ),
    )


def table_rows(table: ReportTable) -> list[list[str]]:
    """Header and body rows of a table as published (for CSV and HTML alike)."""
    published = table.published
    header = [table.row_header, *table.col_labels]
    if published.row_totals is not None:
        header.append("Total")
    rows = [header]
    for index, label in enumerate(table.row_labels):
        row = [label, *published.cells[index]]
        if published.row_totals is not None:
            row.append(published.row_totals[index])
        rows.append(row)
    if published.col_totals is not None:
        total_row = ["Total", *published.col_totals]
        if published.grand_total is not None:
            total_row.append(published.grand_total)
        rows.append(total_row)
    return rows


def write_csvs(report: PilotReport, folder: Path) -> list[Path]:
    """One CSV per table plus the claim times; values exactly as published."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for table in report.tables:
        path = folder / f"{table.name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(table_rows(table))
        written.append(path)
    path = folder / "time_to_first_claim.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Scope", "Claims", "Median hours", "90th percentile hours"])
        for claim in report.claim_times:
            writer.writerow([claim.scope, claim.claims, claim.median_hours, claim.p90_hours])
    written.append(path)
    return written


def is_published_value(text: str) -> bool:
    """A cell may hold a count of 5 or more, "<5" or "*": nothing else."""
    return text in (SMALL, HIDDEN) or (text.isdigit() and int(text) >= THRESHOLD)
