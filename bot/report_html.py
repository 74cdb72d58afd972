"""The pilot report as one self-contained HTML file: inline CSS, charts as inline SVG,
no script, no font, no image or anything else fetched (a Content-Security-Policy says
so to the browser). It renders only the published strings of storage/operations/report.py, so a
chart can never show more than its table.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

from storage.operations.report import PilotReport, ReportTable, table_rows, write_csvs
from storage.operations.suppression import HIDDEN, SMALL, THRESHOLD

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
INK = "#0b0c0c"
BAR = "#1d70b8"
MUTED = "#505a5f"

STYLE = """
:root { color-scheme: light; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Arial, sans-serif;
       color: #0b0c0c; margin: 0; background: #f3f2f1; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; background: #fff; }
h1 { font-size: 2rem; margin: 0 0 .25em; }
h2 { font-size: 1.4rem; margin: 1.6em 0 .3em; border-top: 4px solid #1d70b8;
     padding-top: .5em; }
p.note, p.meta { color: #505a5f; margin: .2em 0 .8em; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .5em 0 1em; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding-bottom: .3em; }
th, td { border-bottom: 1px solid #b1b4b6; padding: 4px 10px; text-align: right;
         white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f3f2f1; }
tr.total td, td.total { font-weight: 700; }
td.small { color: #505a5f; }
td.hidden { color: #505a5f; font-style: italic; }
ul.notes { color: #0b0c0c; }
svg { max-width: 100%; height: auto; display: block; margin: .5em 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 12px; }
"""


def _number(text: str) -> float | None:
    return float(text) if text.isdigit() else None


def _scale_max(values: Sequence[str]) -> float:
    numbers = [_number(v) or 0.0 for v in values]
    return max([THRESHOLD, *numbers])


PATTERN = (
    '<defs><pattern id="{id}" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#d2e2f1"/>'
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#1d70b8" stroke-width="2"/></pattern></defs>'
)


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[str],
    chart_id: str,
    width: int = 720,
    caption: bool = True,
) -> str:
    """Vertical bars: a number is drawn to scale; "<5" as a hatched bar up to 5; "*"
    as a dashed outline of the same size (its real size is not published)."""
    height, left, bottom = 240, 44, 56
    top = 42 if caption else 20
    plot_w, plot_h = width - left - 12, height - bottom - top
    top_value = _scale_max(values)
    n = max(1, len(values))
    slot = plot_w / n
    bar_w = max(2.0, min(40.0, slot * 0.7))
    every = max(1, round(n / 12))
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-labelledby="{chart_id}-t">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        PATTERN.format(id=f"{chart_id}-hatch"),
        (
            f'<text x="{left}" y="18" font-size="14" font-weight="600" fill="{INK}">'
            f"{escape(title)}</text>"
            if caption
            else ""
        ),
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 12}" y2="{top + plot_h}" '
        f'stroke="{MUTED}"/>',
        f'<text x="{left - 6}" y="{top + 4}" font-size="11" text-anchor="end" '
        f'fill="{MUTED}">{int(top_value)}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" font-size="11" text-anchor="end" '
        f'fill="{MUTED}">0</text>',
    ]
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + index * slot + (slot - bar_w) / 2
        h, shape = _bar(value, plot_h / top_value, chart_id)
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
            f'height="{h:.1f}" {shape}><title>{escape(label)}: {_spoken(value)}</title></rect>'
        )
        centre = x + bar_w / 2
        if n <= 16:
            parts.append(
                f'<text x="{centre:.1f}" y="{top + plot_h - h - 4:.1f}" font-size="11" '
                f'text-anchor="middle" fill="{INK}">{escape(value)}</text>'
            )
        if index % every == 0:
            y = top + plot_h + 14
            parts.append(
                f'<text x="{centre:.1f}" y="{y}" font-size="10" text-anchor="end" '
                f'fill="{MUTED}" transform="rotate(-35 {centre:.1f} {y})">'
                f"{escape(_short(label))}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _bar(value: str, unit: float, chart_id: str) -> tuple[float, str]:
    """Height and look of one bar: to scale, hatched up to 5 ("<5"), or dashed ("*")."""
    number = _number(value)
    if number is not None:
        return unit * number, f'fill="{BAR}"'
    if value == SMALL:
        return unit * THRESHOLD, f'fill="url(#{chart_id}-hatch)" stroke="{BAR}"'
    return unit * THRESHOLD, f'fill="none" stroke="{MUTED}" stroke-dasharray="3 2"'


def _spoken(value: str) -> str:
    return {SMALL: "fewer than 5", HIDDEN: "hidden"}.get(value, value)


def hbar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[str],
    chart_id: str,
    caption: bool = True,
) -> str:
    """Horizontal bars, one per row (long office names stay readable)."""
    row_h, left, width = 22, 290, 720
    top = 30 if caption else 6
    plot_w = width - left - 60
    unit = plot_w / _scale_max(values)
    height = top + row_h * max(1, len(values)) + 10
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-labelledby="{chart_id}-t">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        PATTERN.format(id=f"{chart_id}-hatch"),
        f'<text x="0" y="18" font-size="14" font-weight="600" fill="{INK}">{escape(title)}</text>',
    ]
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + index * row_h
        w, shape = _bar(value, unit, chart_id)
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" font-size="12" text-anchor="end" '
            f'fill="{INK}">{escape(_short(label, 44))}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" {shape}>'
            f"<title>{escape(label)}: {_spoken(value)}</title></rect>"
            f'<text x="{left + w + 6:.1f}" y="{y + 15}" font-size="12" fill="{INK}">'
            f"{escape(value)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _short(label: str, limit: int = 22) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _cell_class(text: str) -> str:
    if text == SMALL:
        return ' class="small"'
    if text == HIDDEN:
        return ' class="hidden"'
    return ""


def html_table(table: ReportTable) -> str:
    rows = table_rows(table)
    header, body = rows[0], rows[1:]
    has_total_row = table.published.col_totals is not None
    has_total_col = table.published.row_totals is not None
    out = ['<div class="scroll"><table>', f"<caption>{escape(table.title)}</caption><thead><tr>"]
    out += [f'<th scope="col">{escape(text)}</th>' for text in header]
    out.append("</tr></thead><tbody>")
    for index, row in enumerate(body):
        total_row = has_total_row and index == len(body) - 1
        out.append('<tr class="total">' if total_row else "<tr>")
        out.append(f'<th scope="row">{escape(row[0])}</th>')
        for position, text in enumerate(row[1:], start=1):
            total = has_total_col and position == len(row) - 1
            klass = _cell_class(text)
            if total and not klass:
                klass = ' class="total"'
            out.append(f"<td{klass}>{escape(text)}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def series_chart(table: ReportTable) -> str:
    """A one-row table's chart: horizontal when there are many or long labels."""
    labels, values = table.col_labels, table.published.cells[0]
    wide = len(labels) > 8 or max(map(len, labels), default=0) > 14
    chart = hbar_chart if wide else bar_chart
    return chart(table.title, labels, values, table.name, caption=False)


def _section(title: str, note: str, *body: str) -> str:
    return f"<section><h2>{escape(title)}</h2><p class='note'>{escape(note)}</p>{''.join(body)}</section>"  # noqa: E501


def render_report(report: PilotReport) -> str:
    weekly = report.weekly
    weekly_charts = "".join(
        bar_chart(label, weekly.col_labels, weekly.published.cells[i], f"weekly-{i}", 400)
        for i, label in enumerate(weekly.row_labels)
    )
    office_table = report.referrals_by_office_week
    office_totals = office_table.published.row_totals or ()
    entries = report.poster_starts
    period = f"{report.weeks[0]} to {report.weeks[-1]}" if report.weeks else "no data recorded yet"
    claims_rows = "".join(
        f"<tr><th scope='row'>{escape(c.scope)}</th><td{_cell_class(c.claims)}>"
        f"{escape(c.claims)}</td><td>{escape(c.median_hours)}</td>"
        f"<td>{escape(c.p90_hours)}</td></tr>"
        for c in report.claim_times
    )
    claims = (
        "<div class='scroll'><table><caption>Time from referral to a mentor's claim "
        "(hours)</caption><thead><tr><th scope='col'>Scope</th><th scope='col'>Claims</th>"
        "<th scope='col'>Median</th><th scope='col'>90th percentile</th></tr></thead>"
        f"<tbody>{claims_rows}</tbody></table></div>"
    )
    notes = "".join(f"<li>{escape(note)}</li>" for note in report.notes)
    return (
        "<!doctype html><html lang='en-GB'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<meta name='robots' content='noindex'>"
        "<title>First Step pilot report</title>"
        f"<style>{STYLE}</style></head><body><main>"
        "<h1>First Step pilot report</h1>"
        f"<p class='meta'>Weeks {escape(period)} · made "
        f"{escape(report.generated_at.strftime('%d %B %Y %H:%M UTC'))}. "
        "Aggregate figures only; small numbers suppressed.</p>"
        f"<ul class='notes'>{notes}</ul>"
        + _section(weekly.title, weekly.note, f"<div class='grid'>{weekly_charts}</div>")
        + html_table(weekly)
        + _section(
            office_table.title,
            office_table.note,
            hbar_chart(
                "Referrals per office (whole period)",
                office_table.row_labels,
                office_totals,
                "offices",
            ),
            html_table(office_table),
        )
        + _section("Time to first claim", "How long people waited for a mentor.", claims)
        + _section(
            report.ladder.title,
            report.ladder.note,
            series_chart(report.ladder),
            html_table(report.ladder),
        )
        + "".join(
            _section(table.title, table.note, series_chart(table), html_table(table))
            for table in (report.helped, report.next_step)
        )
        + _section(
            entries.title,
            entries.note,
            hbar_chart(
                "Starts per office (all sources)",
                entries.row_labels,
                entries.published.row_totals or (),
                "entries",
            ),
            html_table(entries),
        )
        + "</main></body></html>\n"
    )


def write_report(report: PilotReport, folder: Path) -> list[Path]:
    """report.html and the CSVs, in `folder` (created, owner-only)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    html_path = folder / "report.html"
    html_path.write_text(render_report(report), encoding="utf-8")
    return [html_path, *write_csvs(report, folder)]
