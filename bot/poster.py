"""A printable A4 poster for one Jobcentre (`firststep poster --office ID`).

The poster is an SVG (210 × 297 mm; any browser prints it at A4) with the plain-English
text of conversations/poster_texts.py and up to two QR codes (segno):

* Telegram: `https://t.me/<FIRSTSTEP_BOT_USERNAME>?start=jc_<office>_p`;
* the web chat: `<FIRSTSTEP_WEBCHAT_URL>/?office=<office>&src=poster`, only when that
  setting is set.

Each code carries its source, so the pilot report counts starts by office and source
(conversations/person/entry.py) without knowing who scanned it. The same text goes
into a `.txt` file next to the SVG, for a leaflet, an email or a screen reader.

Each code is drawn as one `<path>` of whole modules (one `M x y h w v1 h-w z` run per row
of dark modules), in module units scaled into place, so it prints sharp at any size and a
test can read the matrix back.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode
from xml.sax.saxutils import escape, quoteattr

import segno

from conversations import poster_texts
from conversations.i18n import _
from conversations.person.entry import WEB_POSTER_SOURCE, Source, start_payload
from storage.directory import Office

# Q keeps a code readable with a quarter of it scuffed or covered (a poster on a wall);
# boost_error off, so the level is always Q and a test can make the same symbol.
QR_ERROR = "q"
QUIET_ZONE = 4  # modules of white around a code, as the QR standard asks
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297
MARGIN_MM = 15
FONT = "Arial, Helvetica, sans-serif"


@dataclass(frozen=True, slots=True)
class Code:
    """One QR code on the poster: what it opens, and the line printed above it."""

    url: str
    caption: str


@dataclass(frozen=True, slots=True)
class Poster:
    office: Office
    codes: tuple[Code, ...]
    paragraphs: tuple[str, ...]

    def svg(self) -> str:
        return render_svg(self)

    def text(self) -> str:
        """The poster's words as plain text, with each code's link."""
        links = [f"{code.caption}\n{code.url}" for code in self.codes]
        return "\n\n".join((*self.paragraphs, *links)) + "\n"


def telegram_link(bot_username: str, office_id: str) -> str:
    payload = start_payload(office_id, Source.POSTER_TELEGRAM)
    return f"https://t.me/{bot_username}?start={payload}"


def web_link(webchat_url: str, office_id: str) -> str:
    query = urlencode({"office": office_id, "src": WEB_POSTER_SOURCE})
    return f"{webchat_url.rstrip('/')}/?{query}"


def make_poster(
    office: Office, *, bot_username: str, webchat_url: str | None, work_coach_policy: str
) -> Poster:
    codes = [Code(telegram_link(bot_username, office.office_id), _(poster_texts.POSTER_TELEGRAM))]
    if webchat_url is not None:
        codes.append(Code(web_link(webchat_url, office.office_id), _(poster_texts.POSTER_WEB)))
    paragraphs = (
        _(poster_texts.POSTER_HEADLINE),
        _(poster_texts.POSTER_ABOUT).format(office=office.name),
        " ".join(
            _(poster_texts.POSTER_PRIVATE).format(work_coach_policy=work_coach_policy).split()
        ),
        _(poster_texts.POSTER_LEAVE),
    )
    return Poster(office=office, codes=tuple(codes), paragraphs=paragraphs)


def qr_matrix(url: str) -> tuple[tuple[bool, ...], ...]:
    """The code's modules, without the quiet zone (True: dark)."""
    symbol = segno.make_qr(url, error=QR_ERROR, boost_error=False)
    return tuple(tuple(bool(cell) for cell in row) for row in symbol.matrix)


def qr_path_data(matrix: tuple[tuple[bool, ...], ...]) -> str:
    """One `M x y h w v1 h-w z` per run of dark modules, in module units."""
    parts = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            parts.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
    return "".join(parts)


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters; a link breaks anywhere but at its hyphens
    (a break there would read as part of it)."""
    return textwrap.wrap(text, width=width, break_on_hyphens=False)


def _lines(text: str, x: float, y: float, size: float, width: int, **attributes: str) -> str:
    """Text wrapped at `width` characters, one <text> per line, from baseline y."""
    extra = "".join(f" {name.replace('_', '-')}={quoteattr(v)}" for name, v in attributes.items())
    out = []
    for index, line in enumerate(_wrap(text, width)):
        baseline = y + index * size * 1.3
        out.append(
            f'<text x="{x:g}" y="{baseline:g}" font-size="{size:g}"{extra}>{escape(line)}</text>'
        )
    return "\n".join(out)


def _code(code: Code, index: int, x: float, y: float, size: float) -> str:
    matrix = qr_matrix(code.url)
    modules = len(matrix) + 2 * QUIET_ZONE
    scale = size / modules
    left, top = x + QUIET_ZONE * scale, y + QUIET_ZONE * scale
    label = escape(code.caption)
    return "\n".join(
        (
            f'<g id="code-{index}" role="img" aria-label={quoteattr(code.caption)}>',
            f"<title>{label}</title>",
            f'<rect x="{x:g}" y="{y:g}" width="{size:g}" height="{size:g}" fill="#fff"/>',
            f'<path class="qr" fill="#000" shape-rendering="crispEdges" '
            f'transform="translate({left:g} {top:g}) scale({scale:g})" '
            f'd="{qr_path_data(matrix)}"/>',
            "</g>",
        )
    )


def render_svg(poster: Poster) -> str:
    """The A4 page: headline, the text, then the codes side by side with their captions."""
    width = PAGE_WIDTH_MM - 2 * MARGIN_MM
    headline, *body = poster.paragraphs
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{PAGE_WIDTH_MM}mm" '
        f'height="{PAGE_HEIGHT_MM}mm" viewBox="0 0 {PAGE_WIDTH_MM} {PAGE_HEIGHT_MM}" '
        f'font-family="{FONT}" lang="en-GB">',
        f"<title>First Step: {escape(poster.office.name)}</title>",
        f'<rect width="{PAGE_WIDTH_MM}" height="{PAGE_HEIGHT_MM}" fill="#fff"/>',
    ]
    y = MARGIN_MM + 12.0
    for paragraph, size, bold in ((headline, 11.0, True), *((p, 5.6, False) for p in body)):
        chars = int(width / (size * (0.55 if bold else 0.5)))
        weight = {"font_weight": "bold"} if bold else {}
        parts.append(_lines(paragraph, MARGIN_MM, y, size, chars, fill="#0b0c0c", **weight))
        y += (len(_wrap(paragraph, chars)) - 1) * size * 1.3 + size + 5
    count = len(poster.codes)
    column = width / count
    size = min(column - 10, 80.0)
    caption_size, link_size = 4.6, 2.6
    caption_chars = int((column - 6) / (caption_size * 0.55))
    link_chars = int(size / (link_size * 0.55))
    caption_lines = max(len(_wrap(code.caption, caption_chars)) for code in poster.codes)
    link_lines = max(len(_wrap(code.url, link_chars)) for code in poster.codes)
    block = (caption_lines + 0.5) * caption_size * 1.3 + size + 3 + link_lines * link_size * 1.3
    top = y + max(4.0, (PAGE_HEIGHT_MM - MARGIN_MM - y - block) / 2)
    for index, code in enumerate(poster.codes):
        centre = MARGIN_MM + (index + 0.5) * column
        parts.append(
            _lines(
                code.caption,
                centre,
                top,
                caption_size,
                caption_chars,
                font_weight="bold",
                text_anchor="middle",
            )
        )
        code_top = top + (caption_lines - 0.5) * caption_size * 1.3
        parts.append(_code(code, index, centre - size / 2, code_top, size))
        link_top = code_top + size + 3
        parts.append(
            _lines(code.url, centre, link_top, link_size, link_chars, text_anchor="middle")
        )
    parts.append(
        f'<text x="{MARGIN_MM}" y="{PAGE_HEIGHT_MM - MARGIN_MM / 2:g}" font-size="2.6" '
        f'fill="#555">First Step · {escape(poster.office.name)} '
        f"({escape(poster.office.office_id)})</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_poster(poster: Poster, folder: Path) -> tuple[Path, Path]:
    """poster-<office>.svg and poster-<office>.txt in `folder` (created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"poster-{poster.office.office_id}"
    svg_path, text_path = folder / f"{stem}.svg", folder / f"{stem}.txt"
    svg_path.write_text(poster.svg(), encoding="utf-8")
    text_path.write_text(poster.text(), encoding="utf-8")
    return svg_path, text_path
