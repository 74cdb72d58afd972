"""The web chat in headless Chromium: the real page, served by the sandbox's web door
(`firststep sandbox` as a child process), and Jo, the sandbox's mentor, on its pretend
Telegram in a second tab. The whole journey, a network drop in the middle of the chat,
/forget, the quick exit, and the page at 320 px with text at 200%.
Skipped, with the reason, where Chromium or chromedriver is not installed."""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conversations import texts, web_texts
from storage.directory import office_by_id
from storage.repositories.referrals import REF_PATTERN
from tests.support.sandbox_process import ROOT, SandboxProcess, fetch, loopback_opener

pytestmark = [pytest.mark.browser, pytest.mark.sandbox]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SHOTS = ROOT / "test-output" / "browser" / "webchat"
WAIT = 20.0
EXIT = "http://127.0.0.1:9/neutral-exit"
OFFICE = office_by_id("portsmouth-arundel-street")
assert OFFICE is not None

if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip(
        "headless Chromium is not installed (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402 (only once Chromium is known to be there)
from selenium.common.exceptions import (  # noqa: E402
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.chrome.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

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
    "--window-size=1200,1000",
)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[str, str]]:
    work = tmp_path / "clone"
    work.mkdir()
    with SandboxProcess(work, "sandbox", "--port", "0", FIRSTSTEP_WEBCHAT_EXIT_URL=EXIT) as process:
        url, _ = process.wait_for_url()
        _, config, _ = fetch(url + "sandbox.json")
        yield url, json.loads(config)["webchat_url"]
        # (the mentor's user id is in the same file: Jo writes through it while offline)
        assert process.stop() == 0, process.stderr()
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


def until(driver: WebDriver, condition: Callable[[WebDriver], Any], what: str) -> Any:
    return WebDriverWait(
        driver,
        WAIT,
        poll_frequency=0.1,
        ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
    ).until(condition, message=f"waiting for {what}")


def post(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(  # noqa: S310 (a loopback http URL the test built)
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with loopback_opener().open(request, timeout=10) as response:
        assert response.status == 200


def shot(driver: WebDriver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


class WebTab:
    def __init__(self, driver: WebDriver, handle: str) -> None:
        self.driver = driver
        self.handle = handle

    def focus(self) -> None:
        self.driver.switch_to.window(self.handle)

    def log(self) -> str:
        self.focus()
        return str(self.driver.find_element(By.ID, "log").text)

    def wait_for(self, fragment: str) -> None:
        until(self.driver, lambda d: fragment in self.log(), repr(fragment))

    def click(self, label: str) -> None:
        self.focus()

        def press(driver: WebDriver) -> bool:
            buttons = [
                b
                for b in driver.find_elements(By.CSS_SELECTOR, "#log button, #keyboard button")
                if b.text == label and b.is_enabled()
            ]
            if not buttons:
                return False
            buttons[-1].click()
            return True

        until(self.driver, press, f"button {label!r}")

    def type(self, text: str) -> None:
        self.focus()
        box = self.driver.find_element(By.ID, "text")
        box.send_keys(text)
        box.send_keys(Keys.ENTER)


class MentorTab:
    """Jo's side, on the sandbox page's pretend Telegram."""

    def __init__(self, driver: WebDriver, handle: str) -> None:
        self.driver = driver
        self.handle = handle

    def pane(self) -> WebElement:
        self.driver.switch_to.window(self.handle)
        return self.driver.find_element(By.ID, "mentor")

    def log(self) -> str:
        return str(self.pane().find_element(By.CSS_SELECTOR, "[data-role=log]").text)

    def wait_for(self, fragment: str) -> None:
        until(self.driver, lambda d: fragment in self.log(), repr(fragment))

    def click(self, label: str) -> None:
        def press(_: WebDriver) -> bool:
            area = self.pane().find_element(By.CSS_SELECTOR, "[data-role=log]")
            found = [b for b in area.find_elements(By.TAG_NAME, "button") if b.text == label]
            if not found or not found[-1].is_enabled():
                return False
            found[-1].click()
            return True

        until(self.driver, press, f"Jo's button {label!r}")

    def type(self, text: str) -> None:
        box = self.pane().find_element(By.CSS_SELECTOR, "input[name=text]")
        box.clear()
        box.send_keys(text, Keys.ENTER)


def test_the_whole_journey_on_the_web_chat_with_a_mentor_on_telegram(
    sandbox: tuple[str, str], driver: WebDriver
) -> None:
    sandbox_url, webchat_url = sandbox
    assert OFFICE is not None
    driver.get(sandbox_url)
    mentor = MentorTab(driver, driver.current_window_handle)
    mentor.wait_for(texts.NAME_ACTIVE.format(name="Jo", office=OFFICE.name))
    # The sandbox page offers the web chat as the person's side (the link opens this page).
    link = driver.find_element(By.ID, "webchat-link")
    assert link.is_displayed() and link.get_attribute("href") == webchat_url
    driver.switch_to.new_window("tab")
    driver.get(webchat_url)  # ?office=…: the poster's Jobcentre is preselected
    web = WebTab(driver, driver.current_window_handle)
    assert driver.title == "First Step chat"
    shot(driver, "01-welcome")

    driver.find_element(By.ID, "start").click()
    web.wait_for("Before you tell us anything")
    assert "Telegram" not in web.log()
    shot(driver, "02-notice")
    web.click(texts.BTN_CONTINUE)
    web.wait_for(texts.OFFICE_PRESELECTED.format(office=OFFICE.name))
    # What they use, in their own words and by buttons, then support, then the mentor.
    web.click(texts.BTN_SUPPORT)
    web.wait_for(OFFICE.name.split()[0])
    web.type("/mentor")
    web.click(texts.BTN_THIS_OFFICE)
    web.click(texts.BTN_CONTACT_BOT)
    web.click(texts.MENTOR_TIME_LABELS["any"])
    web.click(texts.BTN_SEND_REQUEST)
    web.wait_for("Your reference is R-")
    found = re.search(REF_PATTERN, web.log())
    assert found is not None
    ref = found.group(0)
    shot(driver, "03-request-sent")

    mentor.wait_for(f"New request {ref}")
    mentor.click(texts.BTN_ACCEPT)
    web.wait_for(web_texts.MENTOR_ACCEPTED_WEB.format(name="Jo", office=OFFICE.name, ref=ref))

    web.type("Hello from a browser")
    mentor.wait_for(f"{ref}: Hello from a browser")
    mentor.type(f"/to {ref} Hi, I'm Jo.")
    web.wait_for("Jo: Hi, I'm Jo.")
    shot(driver, "04-chatting")

    # A network drop in the middle of the chat: what Jo writes meanwhile arrives once.
    web.focus()
    driver.set_network_conditions(offline=True, latency=0, throughput=0)
    # The whole browser is offline now, so Jo writes from the sandbox's own API.
    jo = json.loads(fetch(sandbox_url + "sandbox.json")[1])["mentor"]["user_id"]
    post(
        sandbox_url + "_emulator/send",
        {"user_id": jo, "text": f"/to {ref} Written while you were offline."},
    )
    web.focus()
    until(driver, lambda d: "Connection lost" in d.find_element(By.ID, "status").text, "the drop")
    driver.set_network_conditions(offline=False, latency=0, throughput=500 * 1024)
    web.wait_for("Jo: Written while you were offline.")
    assert web.log().count("Written while you were offline.") == 1
    # A reload shows the same chat again, each message once.
    driver.refresh()
    web.wait_for("Jo: Written while you were offline.")
    assert web.log().count("Jo: Hi, I'm Jo.") == 1
    mentor_side = mentor.log()
    assert "Web" not in mentor_side.replace("web", "")  # nothing says which door

    web.type("/forget")
    web.click(texts.BTN_FORGET_YES)
    web.wait_for("We wiped everything we kept about you")
    shot(driver, "05-forgotten")

    # Quick exit: Esc twice leaves for the neutral site, and Back does not return here.
    web.focus()
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE, Keys.ESCAPE)
    until(driver, lambda d: d.current_url.startswith(EXIT), "the neutral site")
    driver.back()
    until(driver, lambda d: not d.current_url.startswith(EXIT), "going back")
    assert "?office=" not in driver.current_url


def assert_no_sideways_scrolling(driver: WebDriver, what: str) -> None:
    wide = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    widest = driver.execute_script(
        "var w = document.documentElement.clientWidth; return Array.from("
        "document.querySelectorAll('body *')).filter(function (e) {"
        "return e.getBoundingClientRect().right > w; }).map(function (e) {"
        "return e.tagName + '#' + e.id + ':' + e.getBoundingClientRect().right; })"
    )
    assert wide <= 0, f"{what}: {wide}px of sideways scrolling at 320 px, 200% text: {widest}"


def test_the_page_fits_320_px_at_200_percent_text_and_the_button_exits(
    sandbox: tuple[str, str], driver: WebDriver
) -> None:
    _, webchat_url = sandbox
    driver.set_window_size(320, 700)
    driver.get(webchat_url)
    driver.execute_script("document.documentElement.style.fontSize = '200%'")
    assert_no_sideways_scrolling(driver, "the welcome")
    driver.find_element(By.ID, "start").click()
    web = WebTab(driver, driver.current_window_handle)
    web.wait_for("Before you tell us anything")
    assert_no_sideways_scrolling(driver, "the notice and its buttons")
    for element in driver.find_elements(By.TAG_NAME, "button"):
        if element.is_displayed():
            assert element.size["height"] >= 24  # a target big enough to hit
    shot(driver, "06-320px-200pc")
    driver.find_element(By.ID, "exit").click()
    until(driver, lambda d: d.current_url.startswith(EXIT), "the neutral site")


# axe-core from the npm registry, put there by `make axe` (a step of `make test`): never
# fetched while the test runs. WCAG 2.0, 2.1 and 2.2, levels A and AA.
AXE_JS = ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_RUN = (
    "var done = arguments[arguments.length - 1];"
    "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
    ".then(function (r) { done({version: axe.version, violations: r.violations.map("
    "function (v) { return {id: v.id, impact: v.impact, help: v.help,"
    " nodes: v.nodes.map(function (n) { return n.target.join(' '); })}; }),"
    " passes: r.passes.length}); })"
    ".catch(function (e) { done({error: String(e)}); });"
)


def axe_violations(driver: WebDriver, what: str) -> list[dict[str, Any]]:
    """Every WCAG A/AA violation axe finds on the page as it is now. The page's CSP allows
    no inline script; WebDriver's script runs outside it (Chromium), so axe is injected."""
    if not driver.execute_script("return typeof axe !== 'undefined'"):
        driver.execute_script(AXE_JS.read_text("utf-8"))
    driver.set_script_timeout(WAIT)
    result = driver.execute_async_script(AXE_RUN, AXE_TAGS)
    assert "error" not in result, f"{what}: {result}"
    assert result["version"].startswith("4."), result["version"]
    assert result["passes"] > 10, f"{what}: axe checked almost nothing: {result}"
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in ("serious", "critical")]


@pytest.mark.skipif(not AXE_JS.is_file(), reason="axe-core is not installed: run `make axe`")
@pytest.mark.parametrize("small", [False, True], ids=["desktop", "320px-200pc-text"])
def test_axe_finds_no_serious_accessibility_issue_on_the_page(
    sandbox: tuple[str, str], driver: WebDriver, small: bool
) -> None:
    _, webchat_url = sandbox
    assert OFFICE is not None
    if small:
        driver.set_window_size(320, 700)
    driver.get(webchat_url)
    if small:
        driver.execute_script("document.documentElement.style.fontSize = '200%'")
    found: dict[str, list[dict[str, Any]]] = {}
    # The welcome, with the "come back" box open.
    driver.find_element(By.CSS_SELECTOR, "details summary").click()
    found["welcome"] = axe_violations(driver, "the welcome")
    driver.find_element(By.ID, "start").click()
    web = WebTab(driver, driver.current_window_handle)
    web.wait_for("Before you tell us anything")
    found["notice"] = axe_violations(driver, "the notice")
    web.click(texts.BTN_CONTINUE)
    web.wait_for(texts.OFFICE_PRESELECTED.format(office=OFFICE.name))
    web.type("/mentor")
    web.click(texts.BTN_THIS_OFFICE)
    web.click(texts.BTN_CONTACT_PHONE)
    web.wait_for(texts.MENTOR_ASK_PHONE[:40])
    # The page's own phone box, in place of Telegram's contact button.
    found["chat and phone box"] = axe_violations(driver, "the chat")
    driver.find_element(By.ID, "get-code").click()
    web.wait_for("Your code to come back to this chat")
    found["recovery code"] = axe_violations(driver, "the recovery code")
    problems = {what: serious(v) for what, v in found.items() if serious(v)}
    assert problems == {}, json.dumps(problems, indent=1)
    # The check can fail: the message box without its label, and grey on grey text.
    driver.execute_script(
        "document.querySelector('label[for=text]').remove();"
        "document.getElementById('status').textContent = 'Connection lost';"
        "document.getElementById('status').style.color = '#aaa';"
    )
    broken = {v["id"] for v in serious(axe_violations(driver, "a broken page"))}
    assert {"label", "color-contrast"} <= broken, broken
