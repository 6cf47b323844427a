"""End to end in a real headless browser (Debian's chromium driven by selenium through
chromedriver): open the start page, play a clip, rate it with the mouse and with the keys,
then find the rows in the database and on the results page.

Skips when chromium, chromedriver or selenium is missing (CI installs them and fails
instead: see .ci/run).
Set BANDMATE_SCREENSHOTS=DIR to also save the pages as DIR/listen.png and
DIR/listen-results.png (how docs/ got its pictures).
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bandmate.evaluate.listen.app import create_app
from bandmate.evaluate.listen.report import load_report
from bandmate.evaluate.listen.store import RatingStore
from tests.evaluate.test_listen_report import write_fake_report
from tests.evaluate.test_listen_server import post_rating, running_server

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    HAVE_SELENIUM = True
except ImportError:  # the fixture below skips (or fails in CI)
    HAVE_SELENIUM = False

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def _missing() -> str | None:
    """Why the browser test cannot run here, or None."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        return (
            "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
        )
    if not HAVE_SELENIUM:
        return "needs selenium (pip install -e '.[dev]')"
    return None


@pytest.fixture(autouse=True)
def _browser_available() -> None:
    """Skip without a browser, but fail where BANDMATE_REQUIRE_BROWSER=1 (CI sets it), so a
    broken install cannot pass as a skip."""
    reason = _missing()
    if reason and os.environ.get("BANDMATE_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    if reason:
        pytest.skip(reason)


CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    "--mute-audio",  # playback runs, the test machine stays quiet
    "--window-size=1000,800",
)


@contextlib.contextmanager
def chromium(profile: Path) -> Iterator[Any]:
    """A headless chromium with a fresh profile, driven through chromedriver."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(15)
    try:
        yield driver
    finally:
        driver.quit()


def _choose(driver: Any, name: str, value: str) -> None:
    """Click the visible card of a radio choice (the input itself is hidden)."""
    driver.find_element(By.CSS_SELECTOR, f'input[name="{name}"][value="{value}"]').find_element(
        By.XPATH, ".."
    ).click()


def _rows(db: Path) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(
            "SELECT rater, trial_id, system, outcome, fit, position FROM ratings ORDER BY position"
        ).fetchall()


def _save_page(driver: Any, path: Path) -> None:
    """A PNG of the whole page, below the fold too (chromium's DevTools screenshot)."""
    size = driver.execute_script(
        "const e = document.documentElement;"
        "return [Math.max(e.scrollWidth, window.innerWidth), e.scrollHeight];"
    )
    clip = {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def _wait_played(driver: Any) -> None:
    """Until the audio element has really advanced (not just been asked to play)."""
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return document.getElementById('audio').currentTime > 0.05")
    )


def test_rate_in_the_browser(tmp_path: Path) -> None:
    report_dir = write_fake_report(tmp_path / "report", n_examples=2, seconds=2.0)
    db = tmp_path / "ratings.sqlite"
    app = create_app(report_dir, db)
    trials = load_report(report_dir, RatingStore(db).secret()).by_id()
    shots = Path(os.environ.get("BANDMATE_SCREENSHOTS", tmp_path))
    with running_server(app) as base, chromium(tmp_path / "profile") as driver:
        driver.get(base + "/")
        driver.find_element(By.ID, "rater").send_keys("ana")
        driver.find_element(By.CSS_SELECTOR, "form.start button").click()
        WebDriverWait(driver, 10).until(lambda d: d.current_url == f"{base}/rate/ana")
        assert "Clip 1 of 6" in driver.page_source

        # Trial 1 with the mouse: saving stays disabled until played and answered.
        submit = driver.find_element(By.ID, "submit")
        first = driver.find_element(By.ID, "rating").get_attribute("data-trial")
        _choose(driver, "outcome", "noise")
        _choose(driver, "fit", "2")
        assert not submit.is_enabled()
        assert "play the clip" in driver.find_element(By.ID, "status").text
        driver.find_element(By.ID, "play").click()
        _wait_played(driver)
        WebDriverWait(driver, 5).until(lambda d: submit.is_enabled())
        assert driver.find_element(By.ID, "status").text == "Ready to save."
        _save_page(driver, shots / "listen.png")
        submit.click()
        WebDriverWait(driver, 10).until(lambda d: "Clip 2 of 6" in d.page_source)
        assert _rows(db) == [("ana", first, trials[first].system, "noise", 2, 1)]

        # Trial 2 with the keys: space plays, M picks music, 4 the fit, enter saves.
        second = driver.find_element(By.ID, "rating").get_attribute("data-trial")
        assert second != first
        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys(" ")
        _wait_played(driver)
        body.send_keys("m4")
        WebDriverWait(driver, 5).until(lambda d: d.find_element(By.ID, "submit").is_enabled())
        body.send_keys("\n")
        WebDriverWait(driver, 10).until(lambda d: "Clip 3 of 6" in d.page_source)
        assert _rows(db)[1] == ("ana", second, trials[second].system, "music", 4, 2)

        # The results page counts both ratings under their (hidden until now) systems.
        for rater, fit in (("bo", 3), ("cy", 5)):  # two more raters through the API
            for trial in trials.values():
                post_rating(
                    base, {"rater": rater, "trial": trial.trial_id, "outcome": "music", "fit": fit}
                )
        driver.get(base + "/results")
        text = driver.find_element(By.TAG_NAME, "main").text
        assert "14 ratings from 3 raters on 6 clips" in text
        systems = {trials[first].system, trials[second].system}
        for system in systems:
            assert system in text
        _save_page(driver, shots / "listen-results.png")
    for name in ("listen.png", "listen-results.png"):
        assert (shots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
