"""The web chat's page, as files and as served: small, nothing from elsewhere, nothing
inline, real buttons and one labelled text box, a quick exit, and nothing kept in the
browser beyond the tab. (The same page in headless Chromium: test_web_browser.py.)"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib import resources

from bot.settings import Settings
from bot.webchat.server import CSP

STATIC = resources.files("bot.webchat").joinpath("static")
FILES = ("index.html", "chat.js", "chat.css")


def read(name: str) -> str:
    return STATIC.joinpath(name).read_text("utf-8")


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.script_text = ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text += data.strip()


def parsed() -> Elements:
    page = Elements()
    page.feed(read("index.html"))
    return page


def test_the_page_is_under_60_kb_and_loads_nothing_from_elsewhere() -> None:
    total = sum(len(read(name).encode()) for name in FILES)
    assert total < 60 * 1024, total
    for name in FILES:
        text = read(name)
        assert not re.search(r"(src|href)=\"(https?:)?//", text), name
        assert "@import" not in text and "url(" not in text, name
    # fetch() only ever goes to the page's own API.
    assert re.findall(r"fetch\(\"([^\"]+)\"", read("chat.js")) == ["/api/events"]
    assert all(
        path.startswith("/api/") for path in re.findall(r"api\(\"([^\"]+)\"", read("chat.js"))
    )


def test_nothing_is_inline_and_the_policy_forbids_it() -> None:
    page = parsed()
    assert page.script_text == ""
    for tag, attrs in page.found:
        assert not any(name.startswith("on") for name in attrs), tag
        assert "style" not in attrs, tag
    assert "script-src 'self'" in CSP and "'unsafe-inline'" not in CSP
    assert "connect-src 'self'" in CSP and "frame-ancestors 'none'" in CSP


def test_real_buttons_and_one_labelled_text_box() -> None:
    page = parsed()
    tags = [tag for tag, _ in page.found]
    boxes = [attrs for tag, attrs in page.found if tag in ("textarea",)]
    assert len(boxes) == 1
    labels = {attrs.get("for") for tag, attrs in page.found if tag == "label"}
    assert boxes[0]["id"] in labels
    # The recovery code's box is labelled too, and sits behind "Come back to a chat".
    inputs = [attrs for tag, attrs in page.found if tag == "input"]
    assert all(attrs["id"] in labels for attrs in inputs)
    assert "a" not in tags or all(attrs.get("href") for tag, attrs in page.found if tag == "a")
    buttons = [attrs for tag, attrs in page.found if tag == "button"]
    assert {b.get("id") for b in buttons} >= {"exit", "start", "recover", "get-code"}
    assert 'role="button"' not in read("index.html") and "div.onclick" not in read("chat.js")
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in read("index.html")
    assert "user-scalable" not in read("index.html")  # zooming to 200% stays possible


def test_the_page_keeps_nothing_beyond_the_tab_and_has_a_quick_exit() -> None:
    script = read("chat.js")
    assert "localStorage" not in script and "document.cookie" not in script
    assert "indexedDB" not in script and "serviceWorker" not in script
    assert "window.sessionStorage" in script
    assert 'credentials: "omit"' in script
    # Quick exit: the button, and Esc pressed twice; the page is replaced in history.
    assert '$("exit").addEventListener("click", quickExit)' in script and '"Escape"' in script
    assert "location.replace(EXIT)" in script and "store.clear()" in script
    assert "private or incognito window" in read("index.html")
    assert 'data-exit="{{EXIT}}"' in read("index.html")
    assert Settings.model_fields["webchat_exit_url"].default.startswith("https://")


def test_an_office_link_is_passed_to_the_server_which_makes_the_start() -> None:
    """The page hands `?office=` and `src=` to /api/chats and sends the /start the server
    made from them (test_web_door.py checks what the server makes of them)."""
    script = read("chat.js")
    assert 'get("office")' in script and 'get("src")' in script
    assert '"/api/chats", from' in script
    assert "send({ text: j.start" in script
