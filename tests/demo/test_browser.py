"""A visitor's path in headless Chromium: open, upload a sound, run 20 steps, watch it change."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
# The README's docs/screenshot.png is made with SOUNDEDIT_SCREENSHOT=docs/screenshot.png; a plain
# test run writes its screenshot beside the failure one, so it never changes a tracked file.
SCREENSHOT = ROOT / os.environ.get("SOUNDEDIT_SCREENSHOT", "tests/_artifacts/screenshot.png")
FAILURE_SHOT = ROOT / "tests" / "_artifacts" / "browser-failure.png"  # git-ignored
STEPS = 20


@pytest.fixture(scope="module")
def page():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield page
        browser.close()


WATCH_PREVIEWS = """() => {
    window.__previews = [];
    const live = document.querySelector('#live');
    const note = () => live.querySelectorAll('img').forEach(i => window.__previews.push(i.src));
    new MutationObserver(note).observe(live, {subtree: true, childList: true, attributes: true,
                                              attributeFilter: ['src']});
}"""


@pytest.mark.browser
def test_upload_run_watch_and_screenshot(page, served_app, served_world, sound_file):
    try:
        visit_and_edit(page, served_app, served_world, sound_file)
    except Exception:
        FAILURE_SHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(FAILURE_SHOT), full_page=True)
        raise


def visit_and_edit(page, served_app, served_world, sound_file):
    rain = ROOT / "assets" / "sounds" / "rain.wav"  # the README screenshot shows a rain edit
    sound_file = (
        str(rain) if served_world["name"] == "soundscapes" and rain.is_file() else sound_file
    )
    start = time.monotonic()
    page.goto(served_app)
    page.locator("#world-status").get_by_text("loaded, ready").wait_for(timeout=60_000)
    page_seconds = time.monotonic() - start

    page.locator("#sound input[type=file]").set_input_files(sound_file)
    page.locator("#sound audio, #sound .waveform-container, #sound button").first.wait_for()
    if served_world["mode"] == "text":
        page.get_by_label("Text only").check()
        page.locator("#text textarea").fill("heavy rain at night")
    page.get_by_text("Optimisation settings").click()
    steps = page.locator("#steps input[type=number]")
    steps.fill(str(STEPS))
    steps.press("Enter")
    page.locator("#preview-every input[type=number]").fill("4")
    page.locator("#preview-every input[type=number]").press("Enter")

    # Record every preview the page shows: a fast run can finish before a poll would look.
    page.evaluate(WATCH_PREVIEWS)
    page.locator("#run").click()
    page.locator("#status").get_by_text("Done").wait_for(timeout=120_000)
    shown = page.evaluate("() => window.__previews")
    assert len(set(shown)) >= 2, f"the preview did not change: {shown}"
    assert f"{STEPS} steps" in page.locator("#status").inner_text()

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    print(f"page ready in {page_seconds:.1f} s")
