"""The sandbox page in headless Chromium: the person and the mentor, side by side.

Runs `firststep sandbox` as a child process (the real bot, the emulator over loopback
HTTP) and drives the page as someone trying the service would: clicks, typing, the
location picker, the keyboard. Screenshots go to test-output/browser/ for a human to look at.
Skipped, with the reason, where Chromium or chromedriver is not installed.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conversations import texts
from storage.directory import office_by_id
from storage.directory.offices import Office
from storage.repositories.referrals import REF_PATTERN
from tests.support.sandbox_process import ROOT, SandboxProcess, fetch

pytestmark = [pytest.mark.browser, pytest.mark.sandbox]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SHOTS = ROOT / "test-output" / "browser"
WAIT = 20.0
_PORTSMOUTH = office_by_id("portsmouth-arundel-street")
assert _PORTSMOUTH is not None
OFFICE: Office = _PORTSMOUTH

if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip(
        "headless Chromium is not installed (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402 (only once Chromium is known to be there)
from selenium.common.exceptions import (  # noqa: E402
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1440,1100",
)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[SandboxProcess, str]]:
    work = tmp_path / "clone"
    work.mkdir()
    with SandboxProcess(work, "sandbox", "--port", "0") as process:
        url, _ = process.wait_for_url()
        yield process, url
        code = process.stop()
        assert code == 0, process.stderr()
        assert "Traceback" not in process.stderr()


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    assert CHROMIUM is not None
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(WAIT)
    try:
        yield browser
    finally:
        browser.quit()


class Page:
    """The sandbox page, seen from the test: panes, buttons, waits and screenshots."""

    def __init__(self, driver: WebDriver, url: str, name: str) -> None:
        self.driver = driver
        self.url = url
        self.folder = SHOTS / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.shots = 0
        driver.get(url)
        self.until(lambda d: self.pane("person").get_attribute("data-user-id"), "the page")

    def until(self, condition: Callable[[WebDriver], Any], what: str) -> Any:
        # The page redraws a message when the bot edits it: an element found a moment ago
        # may be gone, so a wait simply looks again.
        return WebDriverWait(
            self.driver,
            WAIT,
            poll_frequency=0.1,
            ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
        ).until(condition, message=f"waiting for {what}")

    def pane(self, side: str) -> WebElement:
        return self.driver.find_element(By.ID, side)

    def log_text(self, side: str) -> str:
        return str(self.pane(side).find_element(By.CSS_SELECTOR, "[data-role=log]").text)

    def wait_for_text(self, side: str, fragment: str) -> None:
        self.until(lambda d: fragment in self.log_text(side), f"{fragment!r} in the {side} pane")

    def bot_messages(self, side: str) -> list[WebElement]:
        return list(self.pane(side).find_elements(By.CSS_SELECTOR, ".message.from-bot"))

    def button(self, side: str, label: str, where: str = "[data-role=log]") -> WebElement:
        """The newest button with this label in a pane's chat (or its keyboard area)."""

        def find(_: WebDriver) -> WebElement | None:
            area = self.pane(side).find_element(By.CSS_SELECTOR, where)
            found = [b for b in area.find_elements(By.TAG_NAME, "button") if b.text == label]
            return found[-1] if found and found[-1].is_enabled() else None

        button: WebElement = self.until(find, f"button {label!r} in the {side} pane")
        return button

    def click(self, side: str, label: str, where: str = "[data-role=log]") -> None:
        def pressed(_: WebDriver) -> bool:
            self.button(side, label, where).click()
            return True

        self.until(pressed, f"a click on {label!r}")

    def type(self, side: str, text: str) -> None:
        box = self.pane(side).find_element(By.CSS_SELECTOR, "input[name=text]")
        box.clear()
        box.send_keys(text)
        box.send_keys(Keys.ENTER)

    def shot(self, label: str) -> Path:
        self.shots += 1
        path = self.folder / f"{self.shots:02d}-{label}.png"
        self.driver.save_screenshot(str(path))
        return path


def test_person_finds_an_office_and_shares_a_location(
    sandbox: tuple[SandboxProcess, str], driver: WebDriver
) -> None:
    _, url = sandbox
    page = Page(driver, url, "person")
    assert driver.title == "First Step sandbox"
    page.shot("empty")

    # Telegram's Start button, then the privacy notice before anything is kept.
    page.click("person", "Start", "[data-role=keyboard]")
    page.wait_for_text("person", "Before you tell us anything")
    page.shot("notice")
    page.click("person", texts.BTN_CONTINUE)
    page.wait_for_text("person", texts.MENU)

    def answered_notice(_: WebDriver) -> bool:
        notice = next(m for m in page.bot_messages("person") if "Before you tell" in m.text)
        # Once answered, "thank you" and the menu are written under it (marked "edited",
        # as in Telegram), and its own buttons give way to the menu's.
        labels = [button.text for button in notice.find_elements(By.TAG_NAME, "button")]
        return "edited" in notice.text and texts.BTN_CONTINUE not in labels and bool(labels)

    page.until(answered_notice, "the notice with the menu under it")

    # A postcode typed in the text box.
    page.click("person", texts.BTN_JOBCENTRE)
    page.wait_for_text("person", texts.FINDER_ASK_OFFICE)
    page.type("person", "PO1 2AB")
    page.wait_for_text("person", OFFICE.name)
    assert "PO1 2AB" in page.log_text("person")  # the person's own message is shown
    page.shot("postcode-results")

    # The location button opens the picker of pilot towns.
    in_gosport = texts.FINDER_IN_PILOT.format(authority="Gosport")

    def results_here(_: WebDriver) -> list[str]:
        return [m.text for m in page.bot_messages("person") if in_gosport in m.text]

    before = page.until(lambda d: (len(results_here(d)),), "the results so far")[0]
    page.type("person", "/jobcentre")
    page.click("person", texts.BTN_DONT_KNOW)
    page.click("person", texts.BTN_SHARE_LOCATION, "[data-role=keyboard]")
    dialog = driver.find_element(By.ID, "location-picker")
    page.until(lambda d: dialog.get_attribute("open") is not None, "the location picker")
    Select(dialog.find_element(By.TAG_NAME, "select")).select_by_visible_text("Gosport")
    page.shot("location-picker")
    dialog.find_element(By.ID, "picker-share").click()
    page.until(lambda d: dialog.get_attribute("open") is None, "the picker to close")
    page.wait_for_text("person", "Shared a location")
    gosport = office_by_id("gosport-walpole-road")
    assert gosport is not None
    results = page.until(
        lambda d: (found := results_here(d))[before:] and found[-1], "offices near the location"
    )
    assert f"1. {gosport.name}\n" in results, results
    page.shot("location-results")

    # Nothing the mentor pane shows came from the person.
    assert "PO1 2AB" not in page.log_text("mentor")

    # Discreet mode: messages the bot deletes are gone from the page.
    page.type("person", "/clear")
    page.wait_for_text("person", texts.CLEAR_DONE)
    page.until(lambda d: OFFICE.name not in page.log_text("person"), "the old messages to go")
    assert "Before you tell us anything" not in page.log_text("person")
    page.shot("cleared")


def test_person_meets_a_mentor_side_by_side(
    sandbox: tuple[SandboxProcess, str], driver: WebDriver
) -> None:
    """The whole handoff on one page: notice, a request near PO1 2AB, the card, Accept,
    the person told, and one message passed each way."""
    _, url = sandbox
    page = Page(driver, url, "handoff")
    person_id = page.pane("person").get_attribute("data-user-id")
    assert person_id is not None
    # Jo joined with an invite code before the page opened, as a real mentor does.
    page.wait_for_text("mentor", "/join ")
    page.wait_for_text("mentor", texts.NAME_ACTIVE.format(name="Jo", office=OFFICE.name))

    page.click("person", "Start", "[data-role=keyboard]")
    page.click("person", texts.BTN_CONTINUE)
    page.click("person", texts.BTN_MENTOR)
    page.wait_for_text("person", texts.FINDER_ASK_OFFICE)
    page.type("person", "PO1 2AB")
    page.click("person", texts.BTN_MENTOR_AT.format(name=OFFICE.name))
    page.click("person", texts.BTN_CONTACT_BOT)
    page.click("person", texts.MENTOR_TIME_LABELS["any"])
    page.wait_for_text("person", "Best time: Any time")
    page.shot("request-ready")
    page.click("person", texts.BTN_SEND_REQUEST)
    page.wait_for_text("person", "Your reference is R-")
    found = re.search(REF_PATTERN, page.log_text("person"))
    assert found is not None
    ref = found.group(0)
    page.shot("request-sent")

    # The card reaches the mentor's phone, protected, with the reference and the office.
    def card(_: WebDriver) -> WebElement | None:
        cards = [m for m in page.bot_messages("mentor") if f"New request {ref}" in m.text]
        return cards[-1] if cards else None

    shown: WebElement = page.until(card, "the card in the mentor pane")
    assert "Protected" in shown.find_element(By.CSS_SELECTOR, ".badge").text
    assert OFFICE.name in shown.text
    page.shot("card")

    page.click("mentor", texts.BTN_ACCEPT)
    page.until(
        lambda d: (
            page.pane("mentor").find_element(By.CSS_SELECTOR, "[data-role=status]").text
            == texts.TOAST_ACCEPTED
        ),
        "the Accept button's answer",
    )
    page.wait_for_text("mentor", texts.CARD_YOURS.format(ref=ref).split("\n")[0])
    page.wait_for_text(
        "person", texts.MENTOR_ACCEPTED.format(name="Jo", office=OFFICE.name, ref=ref)
    )
    page.shot("accepted")

    # One message each way: the person types; the mentor replies to the relayed message.
    page.type("person", "Hello, I would like to talk about my drinking")
    relayed = f"{ref}: Hello, I would like to talk about my drinking"
    page.wait_for_text("mentor", relayed)

    def reply_button(_: WebDriver) -> WebElement | None:
        message = [m for m in page.bot_messages("mentor") if relayed in m.text]
        buttons = message[-1].find_elements(By.TAG_NAME, "button") if message else []
        return next((b for b in buttons if b.text == "Reply"), None)

    page.until(reply_button, "Reply on the relayed message").click()
    replying = page.pane("mentor").find_element(By.CSS_SELECTOR, "[data-role=replying]")
    assert relayed in replying.text
    page.type("mentor", "Hi, I'm Jo. Thank you for reaching out.")
    page.wait_for_text("person", "Jo: Hi, I'm Jo. Thank you for reaching out.")
    assert not replying.is_displayed()
    page.shot("relayed")

    # The mentor never sees who the person is.
    mentor_side = page.log_text("mentor")
    for secret in (person_id, "Sam", "PO1 2AB"):
        assert secret not in mentor_side


def test_keyboard_only_and_a_new_person(
    sandbox: tuple[SandboxProcess, str], driver: WebDriver
) -> None:
    _, url = sandbox
    page = Page(driver, url, "keyboard")
    first_id = page.pane("person").get_attribute("data-user-id")

    box = page.pane("person").find_element(By.CSS_SELECTOR, "input[name=text]")
    box.send_keys("/start", Keys.ENTER)
    page.wait_for_text("person", "Before you tell us anything")
    assert driver.switch_to.active_element == box  # focus stays in the text box

    # Tab from the chat log reaches the notice's buttons; Enter presses one.
    log = page.pane("person").find_element(By.CSS_SELECTOR, "[data-role=log]")
    log.send_keys(Keys.TAB)
    focused = driver.switch_to.active_element
    assert focused.text == texts.BTN_CONTINUE
    focused.send_keys(Keys.ENTER)
    page.wait_for_text("person", texts.MENU)
    page.shot("keyboard-menu")

    # Every control on the page has an accessible name.
    unnamed = driver.execute_script(
        """
        return [...document.querySelectorAll('button, input, select, a')]
          .filter((el) => !el.closest('dialog:not([open])'))
          .filter((el) => !(el.labels && el.labels.length) && !el.textContent.trim()
                          && !el.getAttribute('aria-label'))
          .map((el) => el.outerHTML);
        """
    )
    assert unnamed == []

    page.click("person", "New person", ".phone-head")
    page.until(
        lambda d: page.pane("person").get_attribute("data-user-id") != first_id, "a new person"
    )
    page.until(lambda d: "No messages yet" in page.log_text("person"), "an empty chat")
    page.click("person", "Start", "[data-role=keyboard]")
    page.wait_for_text("person", "Before you tell us anything")
    page.shot("new-person")

    # The first person's chat is still there in the emulator, untouched.
    status, body, _ = fetch(f"{url}_emulator/chats/{first_id}")
    assert status == 200
    assert any((m["text"] or "").endswith(texts.MENU) for m in json.loads(body)["result"])


def test_the_page_starts_over_when_the_sandbox_does(tmp_path: Path, driver: WebDriver) -> None:
    """Ctrl-C and `make run` again with the page still open: it says so, then starts over."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    work = tmp_path / "clone"
    work.mkdir()
    with SandboxProcess(work, "sandbox", "--port", port) as first:
        url, _ = first.wait_for_url()
        page = Page(driver, url, "restart")
        page.type("person", "/start")
        page.wait_for_text("person", "Before you tell us anything")
        assert first.stop() == 0
    offline = driver.find_element(By.ID, "offline")
    page.until(lambda d: offline.is_displayed(), "the not-answering notice")
    page.shot("stopped")
    # A mark on this page: the page that comes back must be a new one, not this page
    # showing the new sandbox's (empty) chat for a moment before it reloads.
    driver.execute_script("window.oldPage = true;")

    with SandboxProcess(work, "sandbox", "--port", port) as second:
        assert second.wait_for_url()[0] == url

        def fresh_page(d: WebDriver) -> bool:
            try:
                return (
                    d.execute_script("return window.oldPage === undefined") is True
                    and "No messages yet" in page.log_text("person")
                    and not d.find_element(By.ID, "offline").is_displayed()
                )
            except WebDriverException as error:
                # Asked in the instant the old page gives way to the new one: look again.
                if "does not belong to the document" in str(error):
                    return False
                raise

        page.until(fresh_page, "a fresh page")
        page.shot("started-again")
        assert second.stop() == 0
