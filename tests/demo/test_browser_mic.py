"""The microphone in headless Chromium: its fake capture device plays a WAV file as the
microphone (48 kHz stereo, as a browser records), through the browser's own capture chain
(its echo cancellation, noise suppression and gain control are on, as Gradio asks for none off).

- the recorder: record a few seconds with the sound panel's microphone, and the page says
  what it heard;
- the live mode: stream the microphone, and the live picture changes about twice a second
  while the verdict names the sound.

The sound is a real rain recording of ESC-50's held-out fold 4 where the copy beside the
checkout exists (``shared/data/esc50-16k``), else the world's own generated rain
(assets/sounds/rain.wav). Both need the SoundScapes world (its mapper and recogniser).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from soundedit.audio.io import load_sound, resample
from soundedit.audio.shape import fit_length
from soundedit.soundscapes.evaluate_mic import microphone_clips
from soundedit.soundscapes.realworld import read_clips
from tests.demo.conftest import soundscapes_ready
from tests.demo.test_browser import CHROMIUM, CHROMIUM_ARGS, FAILURE_SHOT, ROOT, SCREENSHOT
from tests.soundscapes.conftest import real_esc50

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not soundscapes_ready(), reason="the live microphone needs SoundScapes"),
]
MIC_RATE = 48_000  # what a browser microphone records at
MIC_SECONDS = 12.0  # the file is looped to this length (Chromium loops it again)
RECORD_MS = 5_000  # the recorder path records this long
LISTEN_MS = 8_000  # the live path streams this long
# What the sound panel says it heard ("" until it has heard something).
SAID = "() => document.querySelector('#heard-note .prose')?.innerText.trim() || ''"
# Every picture the live panel shows and every verdict it says, with the page's clock (ms).
WATCH_LIVE = """() => {
    window.__pictures = [];
    window.__verdicts = [];
    const note = (list, value) => {
        const last = list[list.length - 1];
        if (value && (!last || last[1] !== value)) list.push([performance.now(), value]);
    };
    const picture = document.querySelector('#mic-picture');
    const verdict = document.querySelector('#mic-verdict');
    new MutationObserver(() => picture.querySelectorAll('img').forEach(img =>
        note(window.__pictures, img.src))).observe(picture, {subtree: true, childList: true,
                                                    attributes: true, attributeFilter: ['src']});
    new MutationObserver(() => note(window.__verdicts,
        verdict.querySelector('.prose')?.innerText.trim())).observe(verdict,
            {subtree: true, childList: true, characterData: true});
}"""


def rain_recording() -> tuple[np.ndarray, int, str]:
    """Rain to play as the microphone: (float samples, rate, where it came from)."""
    esc50 = real_esc50()
    if esc50 is not None:
        clip = next(c for c in read_clips(esc50, folds=(4,)) if c.event == "rain")
        return clip.samples, 16_000, f"ESC-50 fold 4 {clip.category}"
    sound = load_sound(ROOT / "assets" / "sounds" / "rain.wav")
    return sound.samples, sound.rate, "the world's generated rain"


def write_mic_file(samples: np.ndarray, rate: int, path: Path) -> Path:
    """``samples`` as a 48 kHz stereo 16-bit WAV, looped (right channel a little quieter)."""
    at_48k = fit_length(resample(samples, rate, MIC_RATE), int(MIC_SECONDS * MIC_RATE), mode="loop")
    stereo = np.stack([at_48k, 0.9 * at_48k], axis=1)  # [n, 2]
    sf.write(path, stereo, MIC_RATE, subtype="PCM_16")
    return path


def launch_with_microphone(playwright, wav: Path):
    """Chromium whose microphone plays ``wav`` (and is allowed without asking)."""
    fake_microphone = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
    ]
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS + fake_microphone
    )


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.locator("#world-status").get_by_text("loaded, ready").wait_for(timeout=60_000)
    return page


@pytest.fixture(scope="module")
def playwright():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    with playwright_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def mic_browser(playwright, tmp_path_factory):
    samples, rate, _ = rain_recording()
    wav = write_mic_file(samples, rate, tmp_path_factory.mktemp("mic") / "rain-48k-stereo.wav")
    browser = launch_with_microphone(playwright, wav)
    yield browser
    browser.close()


@pytest.fixture
def mic_page(mic_browser, served_app):
    page = open_page(mic_browser, served_app)
    yield page
    page.close()


@contextlib.contextmanager
def failure_shot(page, name: str):
    """A full-page screenshot beside the other failure ones when the block fails."""
    try:
        yield
    except Exception:
        FAILURE_SHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(FAILURE_SHOT.with_stem(name)), full_page=True)
        raise


def test_a_recording_from_the_microphone_is_heard(mic_page):
    with failure_shot(mic_page, "microphone-recorder"):
        record_and_hear(mic_page)


def record_and_hear(page):
    assert "Heard as rain" in recorded_note(page)


def recorded_note(page) -> str:
    """Record RECORD_MS with the sound panel's microphone: what the page then says it heard."""
    sound = page.locator("#sound")
    sound.get_by_role("button", name="Record audio").click()
    sound.get_by_role("button", name="Record", exact=True).click()
    page.wait_for_timeout(RECORD_MS)
    sound.get_by_role("button", name="Stop").click()
    page.wait_for_function(SAID, timeout=60_000)
    return page.evaluate(SAID)


def test_the_live_picture_follows_the_microphone(mic_page):
    with failure_shot(mic_page, "microphone-live"):
        listen_live(mic_page)


def listen_live(page):
    page.locator("#mic-fold").get_by_text("Live microphone").first.click()
    page.locator("#mic-picture").wait_for()
    page.evaluate(WATCH_LIVE)
    page.locator("#mic-live").get_by_role("button", name="Record", exact=True).click()
    page.locator("#mic-verdict").get_by_text("Hearing").wait_for(timeout=60_000)
    page.wait_for_timeout(LISTEN_MS)
    shown = [t for t, _ in page.evaluate("() => window.__pictures")]
    said, now = page.evaluate("() => [window.__verdicts, performance.now()]")
    # The README's picture of the live mode (docs/ with SOUNDEDIT_SCREENSHOT=docs/screenshot.png)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.locator("#mic-fold").screenshot(path=str(SCREENSHOT.with_name("screenshot-live.png")))
    page.locator("#mic-live").get_by_role("button", name="Stop").click()
    intervals = np.diff(shown) / 1000.0  # s between two pictures, as the page showed them
    # The interval is a speed figure (README), printed here, never asserted: no timed tests.
    print(f"live picture: {len(shown)} pictures, intervals {np.round(intervals, 2).tolist()} s")
    # The window of a real recording may now and then sound like something else: the verdict
    # that counts is the one on screen longest.
    on_screen: dict[str, float] = {}
    for (start, text), (end, _) in zip(said, [*said[1:], (now, "")], strict=True):
        if text != "Listening…":
            on_screen[text] = on_screen.get(text, 0.0) + (end - start) / 1000.0
    print(f"live verdicts, seconds on screen: {on_screen}")
    assert max(on_screen, key=on_screen.get) == "Hearing rain", on_screen
    assert len(shown) >= 4, f"the live picture changed {len(shown)} times in {LISTEN_MS} ms"


@pytest.mark.slow  # 14 browsers, each recording 5 s
@pytest.mark.skipif(real_esc50() is None, reason="real ESC-50 clips (shared/data/esc50-16k) absent")
def test_real_clips_through_the_browser_microphone(playwright, served_app, tmp_path):
    """The microphone path's 14 fold-4 clips (soundedit.soundscapes.evaluate_mic) played as
    Chromium's microphone and recorded by the page: heard as the files are (README)."""
    inside = [c for c in read_clips(real_esc50(), folds=(4,)) if c.event is not None]
    said = []
    for clip in microphone_clips(inside):
        wav = write_mic_file(clip.samples, 16_000, (tmp_path / clip.name).with_suffix(".wav"))
        browser = launch_with_microphone(playwright, wav)
        try:
            said.append((clip.event, recorded_note(open_page(browser, served_app))))
        finally:
            browser.close()
    right = [e for e, note in said if note.startswith(f"Heard as {e} ")]
    print(f"browser microphone: {len(right)} of {len(said)} heard right: {said}")
    assert len(right) >= 10, said  # measured 11 of 14, as the same clips played as files
