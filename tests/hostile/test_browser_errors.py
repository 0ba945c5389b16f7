"""In headless Chromium: after an error, Run is usable again; Stop on an idle page says so.

The same pattern as tests/demo/test_browser.py (Debian's /usr/bin/chromium through Playwright;
skipped when either is missing).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .corpus import noise

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
FAILURE_SHOT = Path(__file__).resolve().parents[1] / "_artifacts" / "browser-errors-failure.png"


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


def run_button_usable(page, timeout=30_000) -> None:
    """Wait until Run reads "▶ Run" and is enabled again."""
    run = page.locator("#run")
    page.wait_for_function(
        """() => { const b = document.querySelector('#run');
                   return b && !b.disabled && b.innerText.includes('Run')
                          && !b.innerText.includes('Running'); }""",
        timeout=timeout,
    )
    assert run.is_enabled()


@pytest.mark.browser
def test_run_is_usable_again_after_errors(page, hostile_app, tmp_path):
    url = hostile_app[0]
    try:
        check_errors_do_not_stick(page, url, tmp_path)
    except Exception:
        FAILURE_SHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(FAILURE_SHOT), full_page=True)
        raise


def check_errors_do_not_stick(page, url, tmp_path):
    import soundfile as sf

    page.goto(url)
    page.locator("#world-status").get_by_text("loaded, ready").wait_for(timeout=60_000)

    # 1. Stop with nothing running says so (and nothing is left "Stopping ...")
    page.locator("#stop").click()
    page.locator("#status").get_by_text("Nothing is running").wait_for(timeout=30_000)

    # 2. Run with no sound: an error, then Run is usable and the status says why
    page.locator("#run").click()
    page.locator("#status").get_by_text("Give a sound first").wait_for(timeout=30_000)
    run_button_usable(page)

    # 3. Text only without words: the same
    page.get_by_label("Text only").check()
    page.locator("#run").click()
    page.locator("#status").get_by_text("needs a text prompt").wait_for(timeout=30_000)
    run_button_usable(page)
    page.get_by_label("Sound only").check()

    # 4. A text file uploaded as the sound (named .wav: the page's picker takes only sound
    # names): our words, the file's own name, Run usable
    notes = tmp_path / "notes.wav"
    notes.write_text("not a sound\n" * 20)
    page.locator("#sound input[type=file]").set_input_files(str(notes))
    page.locator("#sound audio, #sound .waveform-container, #sound button").first.wait_for()
    page.locator("#run").click()
    page.locator("#status").get_by_text("notes.wav could not be decoded").wait_for(timeout=30_000)
    run_button_usable(page)
    assert "/tmp/" not in page.locator("#status").inner_text()

    # 5. ... and a good sound afterwards edits to the end
    good = tmp_path / "ok.wav"
    sf.write(str(good), noise(0.5), 16000)
    page.locator("#sound button[aria-label='Clear'], #sound button[title='Clear']").first.click()
    page.locator("#sound input[type=file]").set_input_files(str(good))
    page.locator("#sound .waveform-container, #sound button").first.wait_for(timeout=30_000)
    page.locator("#run").click()
    page.locator("#status").get_by_text("Done").wait_for(timeout=120_000)
    run_button_usable(page)
