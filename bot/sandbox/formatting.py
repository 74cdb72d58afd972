"""Telegram's ``parse_mode`` rendering: marked-up text in, plain text plus entities out.

Why: Telegram rejects badly formed markup with a 400 ("can't parse entities: ..."), and a
bot that forgets to escape a ``<`` or a ``.`` only finds out in production. The emulator runs
the same checks, and the transcript shows the text as the person sees it (tags removed).
Entity offsets and lengths are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EntityParseError", "render", "strip_text", "utf16_len"]


class EntityParseError(ValueError):
    """The markup could not be parsed; ``str(exc)`` is Telegram's wording after the prefix."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Bot API entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def render(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Parse ``text`` the way Telegram does for ``parse_mode`` (None: taken literally)."""
    mode = (parse_mode or "").lower()
    if not mode:
        return text, []
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _parse_markdown_v2(text)
    if mode == "markdown":
        return _parse_markdown(text)
    raise ValueError(parse_mode)


def strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim surrounding whitespace as Telegram does, clipping entities to what is left."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    end = lead + utf16_len(stripped)
    kept: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"], lead)
        stop = min(entity["offset"] + entity["length"], end)
        if stop > start:
            kept.append({**entity, "offset": start - lead, "length": stop - start})
    return stripped, kept


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


@dataclass(slots=True)
class _Builder:
    """Accumulates output text and tracks the UTF-16 position for entity offsets."""

    parts: list[str] = field(default_factory=list)
    pos: int = 0
    entities: list[dict[str, Any]] = field(default_factory=list)

    def add(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.pos += utf16_len(chunk)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        if self.pos > start:
            self.entities.append(
                {"type": kind, "offset": start, "length": self.pos - start, **extra}
            )

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        ordered = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), ordered


# ---------------------------------------------------------------------------------- HTML

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ATTR_NAME = re.compile(r"[A-Za-z0-9_-]+")


def _html_unescape(match: re.Match[str]) -> str | None:
    name = match.group(1)
    if name in _HTML_NAMED:
        return _HTML_NAMED[name]
    code = int(name[2:], 16) if name.startswith("#x") else int(name[1:])
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else None


@dataclass(slots=True)
class _OpenTag:
    tag: str
    start: int
    attrs: dict[str, str]


def _parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    stack: list[_OpenTag] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "&":
            match = _HTML_ENTITY.match(text, i)
            decoded = _html_unescape(match) if match else None
            if match and decoded is not None:
                out.add(decoded)
                i = match.end()
            else:
                out.add("&")
                i += 1
            continue
        if char != "<":
            j = i
            while j < n and text[j] not in "<&":
                j += 1
            out.add(text[i:j])
            i = j
            continue
        if i + 1 < n and text[i + 1] == "/":
            i = _html_end_tag(text, i, stack, out)
        else:
            i = _html_start_tag(text, i, stack, out)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return out.result()


def _html_end_tag(text: str, begin: int, stack: list[_OpenTag], out: _Builder) -> int:
    end = text.find(">", begin + 2)
    if end == -1:
        raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
    name = text[begin + 2 : end].strip().lower()
    if not stack:
        raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
    top = stack[-1]
    if name != top.tag:
        raise EntityParseError(
            f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
            f'expected "</{top.tag}>", found "</{name}>"'
        )
    stack.pop()
    _close_html_entity(top, out)
    return end + 1


def _close_html_entity(top: _OpenTag, out: _Builder) -> None:
    kind = _HTML_TAGS[top.tag]
    if kind == "text_link":
        href = top.attrs.get("href", "")
        if href:
            out.entity("text_link", top.start, url=href)
    elif kind == "pre":
        # <pre><code class="language-x">…</code></pre> becomes one pre entity with a language.
        inner = next(
            (
                e
                for e in out.entities
                if e["type"] == "code"
                and e["offset"] == top.start
                and e["offset"] + e["length"] == out.pos
                and "language" in e
            ),
            None,
        )
        if inner is not None:
            out.entities.remove(inner)
            out.entity("pre", top.start, language=inner["language"])
        else:
            out.entity("pre", top.start)
    elif kind == "code":
        language = top.attrs.get("class", "")
        if language.startswith("language-") and len(language) > len("language-"):
            out.entity("code", top.start, language=language[len("language-") :])
        else:
            out.entity("code", top.start)
    elif kind == "blockquote":
        out.entity(
            "expandable_blockquote" if "expandable" in top.attrs else "blockquote", top.start
        )
    elif kind == "custom_emoji":
        out.entity("custom_emoji", top.start, custom_emoji_id=top.attrs.get("emoji-id", ""))
    else:
        out.entity(kind, top.start)


def _html_start_tag(text: str, begin: int, stack: list[_OpenTag], out: _Builder) -> int:
    n = len(text)
    j = begin + 1
    while j < n and not text[j].isspace() and text[j] != ">":
        j += 1
    if j >= n:
        raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
    name = text[begin + 1 : j].lower()
    if name not in _HTML_TAGS:
        raise EntityParseError(
            f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, begin)}'
        )
    attrs: dict[str, str] = {}
    while True:
        while j < n and text[j].isspace():
            j += 1
        if j >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        if text[j] == ">":
            j += 1
            break
        match = _ATTR_NAME.match(text, j)
        if not match:
            raise EntityParseError(
                f'Empty attribute name in the tag "{name}" at byte offset '
                f"{_byte_offset(text, begin)}"
            )
        attr = match.group(0).lower()
        j = match.end()
        while j < n and text[j].isspace():
            j += 1
        if j >= n or text[j] != "=":
            attrs[attr] = ""
            continue
        j += 1
        while j < n and text[j].isspace():
            j += 1
        if j < n and text[j] in "\"'":
            close = text.find(text[j], j + 1)
            if close == -1:
                raise EntityParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
                )
            raw_value = text[j + 1 : close]
            j = close + 1
        else:
            start = j
            while j < n and not text[j].isspace() and text[j] != ">":
                j += 1
            raw_value = text[start:j]
        attrs[attr] = _HTML_ENTITY.sub(lambda m: _html_unescape(m) or m.group(0), raw_value)
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise EntityParseError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, begin)}'
        )
    stack.append(_OpenTag(name, out.pos, attrs))
    return j


# ---------------------------------------------------------------------------- MarkdownV2

_V2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_V2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
}


@dataclass(slots=True)
class _OpenMark:
    kind: str
    start: int
    index: int
    language: str = ""


def _v2_closes(kind: str, text: str, i: int) -> int:
    """Length of the closing marker of ``kind`` at ``i``, or 0."""
    nxt = text[i + 1] if i + 1 < len(text) else ""
    char = text[i]
    if kind == "bold" and char == "*":
        return 1
    if kind == "italic" and char == "_" and nxt != "_":
        return 1
    if kind == "underline" and char == "_" and nxt == "_":
        return 2
    if kind == "strikethrough" and char == "~":
        return 1
    if kind == "spoiler" and char == "|" and nxt == "|":
        return 2
    if kind == "text_link" and char == "]":
        return 1
    return 0


def _parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    stack: list[_OpenMark] = []
    quote_start: int | None = None
    i, n = 0, len(text)

    def reserved(char: str) -> EntityParseError:
        return EntityParseError(
            f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
        )

    while i < n:
        char = text[i]
        top = stack[-1] if stack else None
        at_line_start = i == 0 or text[i - 1] == "\n"
        if char == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.add(text[i + 1])
            i += 2
            continue
        if top is not None and top.kind in ("code", "pre"):
            if top.kind == "code" and char == "`":
                stack.pop()
                out.entity("code", top.start)
                i += 1
            elif top.kind == "pre" and text.startswith("```", i):
                stack.pop()
                extra = {"language": top.language} if top.language else {}
                out.entity("pre", top.start, **extra)
                i += 3
            else:
                out.add(char)
                i += 1
            continue
        if char == "\n" and quote_start is not None and not text.startswith(">", i + 1):
            out.entity("blockquote", quote_start)
            quote_start = None
        if at_line_start and char == ">" and not stack:
            if quote_start is None:
                quote_start = out.pos
            i += 1
            continue
        if char not in _V2_RESERVED:
            out.add(char)
            i += 1
            continue
        if top is not None:
            closing = _v2_closes(top.kind, text, i)
            if closing:
                stack.pop()
                i += closing
                if top.kind != "text_link":
                    out.entity(top.kind, top.start)
                    continue
                i = _v2_link_target(text, i, top, out)
                continue
        i = _v2_open(text, i, stack, out, reserved)
    if stack:
        top = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_V2_NAMES[top.kind]} entity at byte offset "
            f"{_byte_offset(text, top.index)}"
        )
    if quote_start is not None:
        out.entity("blockquote", quote_start)
    return out.result()


def _v2_link_target(text: str, i: int, top: _OpenMark, out: _Builder) -> int:
    """Read ``(url)`` after ``]``; without it the brackets are just text, as in Telegram."""
    if i >= len(text) or text[i] != "(":
        return i
    j = i + 1
    url: list[str] = []
    while j < len(text) and text[j] != ")":
        if text[j] == "\\" and j + 1 < len(text):
            j += 1
        url.append(text[j])
        j += 1
    if j >= len(text):
        raise EntityParseError(
            f"Can't find end of a URL at byte offset {_byte_offset(text, i + 1)}"
        )
    target = "".join(url)
    if target:
        out.entity("text_link", top.start, url=target)
    return j + 1


def _v2_open(
    text: str,
    i: int,
    stack: list[_OpenMark],
    out: _Builder,
    reserved: Any,
) -> int:
    char = text[i]
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if char == "_":
        kind, width = ("underline", 2) if nxt == "_" else ("italic", 1)
    elif char == "*":
        kind, width = "bold", 1
    elif char == "~":
        kind, width = "strikethrough", 1
    elif char == "|" and nxt == "|":
        kind, width = "spoiler", 2
    elif char == "[":
        kind, width = "text_link", 1
    elif char == "`" and text.startswith("```", i):
        end_of_line = text.find("\n", i + 3)
        language = ""
        width = 3
        if end_of_line != -1:
            candidate = text[i + 3 : end_of_line]
            if candidate and not any(c.isspace() for c in candidate):
                language = candidate
                width = 3 + len(candidate) + 1
        stack.append(_OpenMark("pre", out.pos, i, language))
        return i + width
    elif char == "`":
        kind, width = "code", 1
    else:
        raise reserved(char)
    stack.append(_OpenMark(kind, out.pos, i))
    return i + width


# ------------------------------------------------------------------------ Markdown (legacy)

_LEGACY = {"*": "bold", "_": "italic", "`": "code", "[": "text_link"}


def _parse_markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if char not in _LEGACY:
            out.add(char)
            i += 1
            continue
        begin, start = i, out.pos
        if text.startswith("```", i):
            end = text.find("```", i + 3)
            if end == -1:
                raise _legacy_unclosed(text, begin)
            body = text[i + 3 : end]
            language = ""
            first, sep, rest = body.partition("\n")
            if sep and first and not any(c.isspace() for c in first):
                language, body = first, rest
            out.add(body)
            out.entity("pre", start, **({"language": language} if language else {}))
            i = end + 3
            continue
        closer = "]" if char == "[" else char
        end = text.find(closer, i + 1)
        if end == -1:
            raise _legacy_unclosed(text, begin)
        out.add(text[i + 1 : end])
        i = end + 1
        if char != "[":
            out.entity(_LEGACY[char], start)
            continue
        if i < n and text[i] == "(":
            close = text.find(")", i + 1)
            if close == -1:
                raise _legacy_unclosed(text, begin)
            url = text[i + 1 : close]
            if url:
                out.entity("text_link", start, url=url)
            i = close + 1
    return out.result()


def _legacy_unclosed(text: str, begin: int) -> EntityParseError:
    return EntityParseError(
        f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
    )
