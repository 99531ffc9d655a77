"""The review app in real headless Chromium (Selenium): sign in, review with the keyboard, edit, reject,
adjudicate, and be denied a page of another role. The server runs on 127.0.0.1 in a thread."""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator

import pytest

from synth_pipeline.judge.rubric import DIMENSIONS
from synth_pipeline.review.models import Adjudication, Response
from synth_pipeline_tests.review.app.conftest import PASSWORD, SCORES, instruction_row

pytestmark = pytest.mark.slow

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
WAIT_S = 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_site(site) -> Iterator[tuple]:
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(site.app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the review app did not start")
        time.sleep(0.05)
    try:
        yield site, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(WAIT_S)


@pytest.fixture
def browser() -> Iterator:
    if not CHROMIUM or not CHROMEDRIVER:
        pytest.fail("Debian's chromium and chromium-driver are required (scripts/install.sh installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="review-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait(driver, condition):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_S).until(condition)


def _sign_in(driver, base: str, name: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver.delete_all_cookies()
    driver.get(f"{base}/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "sign-in").click()
    _wait(driver, ec.url_changes(f"{base}/login"))


def _press(driver, *keys: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(*keys).perform()


def _ctrl_enter(driver) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()


def _on_item(driver, item_id: int) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    _wait(driver, ec.url_contains(f"/items/{item_id}"))
    _wait(driver, ec.presence_of_element_located((By.ID, "btn-accept")))


def test_review_with_the_keyboard_and_adjudicate(live_site, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select

    site, base = live_site
    ids = site.item_ids("v1")
    _sign_in(browser, base, "alice")
    assert browser.current_url.endswith("/queue")
    _press(browser, "n")
    _on_item(browser, ids[0])
    assert "Answer 1." in browser.find_element(By.ID, "f-output").text
    _press(browser, "5", "4", "5", "4", "2")  # the five rubric scores, in order
    _press(browser, "a")
    _on_item(browser, ids[1])
    _press(browser, "e")
    panel = browser.find_element(By.ID, "edit-panel")
    assert panel.is_displayed()
    assert browser.switch_to.active_element.get_attribute("id") == "edit-instruction"
    output = browser.find_element(By.ID, "edit-output")
    output.clear()
    output.send_keys("An answer fixed in the browser.")
    _ctrl_enter(browser)
    _on_item(browser, ids[2])
    _press(browser, "r")
    assert browser.find_element(By.ID, "reject-panel").is_displayed()
    Select(browser.find_element(By.ID, "reason")).select_by_visible_text("wrong format")
    browser.find_element(By.ID, "note").send_keys("should be a list")
    browser.find_element(By.ID, "flag-pattern").click()
    _ctrl_enter(browser)
    _on_item(browser, ids[3])
    _press(browser, "n")  # skip the last one: the queue has nothing else for alice
    _wait(browser, ec.url_contains("/queue?done=1"))
    with site.session() as s:
        answers = {r.item_id: r for r in s.query(Response).filter(Response.status == "submitted")}
    assert answers[ids[0]].decision == "accept"
    assert answers[ids[0]].scores == dict(zip(DIMENSIONS, [5, 4, 5, 4, 2], strict=True))
    assert answers[ids[1]].scores == dict.fromkeys(SCORES, 3)  # pre-filled from the judge's scores
    assert answers[ids[1]].decision == "edit"
    assert answers[ids[1]].edited_record["output"] == "An answer fixed in the browser."
    assert answers[ids[2]].decision == "reject" and answers[ids[2]].reason == "wrong format"
    assert answers[ids[2]].note == "should be a list" and answers[ids[2]].flag_pattern
    assert ids[3] not in answers

    browser.get(f"{base}/admin/users")  # a page of another role
    assert browser.find_element(By.TAG_NAME, "h1").text == "Forbidden"
    assert "Users and API tokens" not in browser.page_source

    site.enqueue("v2", [instruction_row(30)], overlap=1.0)
    disputed = site.item_ids("v2")[0]
    api = site.api()
    for who, body in (("alice", {"decision": "accept", "scores": SCORES}),
                      ("bob", {"decision": "reject", "scores": SCORES, "reason": "other"})):
        assert api.post(f"/api/v1/items/{disputed}/responses", headers=site.bearer(who), json=body).status_code == 201
    _sign_in(browser, base, "carol")
    assert browser.current_url.endswith("/adjudication")
    browser.find_element(By.CSS_SELECTOR, f'a[href="/adjudication/{disputed}"]').click()
    _wait(browser, ec.presence_of_element_located((By.ID, "answers")))
    assert "Reviewer 2" in browser.find_element(By.ID, "answers").text
    _press(browser, "a")
    _wait(browser, ec.url_contains("/adjudication?version=v2"))
    with site.session() as s:
        settled = s.query(Adjudication).filter(Adjudication.item_id == disputed).one()
    assert settled.decision == "accept"
    violations = [e for e in browser.get_log("browser") if "Content Security Policy" in e.get("message", "")]
    assert violations == []
