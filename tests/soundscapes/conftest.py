"""A tiny folder in the exact ESC-50 layout (meta/esc50.csv + audio/*.wav), made by the tests."""

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ESC50_COLUMNS = ("filename", "fold", "target", "category", "esc10", "src_file", "take")


def write_esc50(root: Path, clips: dict[str, int], *, folds=(1, 4), rate=44_100, seconds=5.0):
    """``clips``: category -> clips per fold. Noise bursts, 16-bit WAV as the public release."""
    (root / "meta").mkdir(parents=True)
    (root / "audio").mkdir()
    rng = np.random.default_rng(0)
    rows = []
    for target, (category, count) in enumerate(sorted(clips.items())):
        for fold in folds:
            for k in range(count):
                name = f"{fold}-{target}{k:03d}-A-{target}.wav"
                level = 0.05 + 0.3 * rng.random()
                sf.write(
                    root / "audio" / name,
                    rng.standard_normal(int(rate * seconds)) * level,
                    rate,
                    subtype="PCM_16",
                )
                rows.append((name, fold, target, category, "False", f"{target}{k}", "A"))
    with (root / "meta" / "esc50.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(ESC50_COLUMNS)
        writer.writerows(rows)
    return root


@pytest.fixture
def esc50_folder(tmp_path):
    return write_esc50(tmp_path / "esc50", {"rain": 1, "thunderstorm": 1, "dog": 1, "footsteps": 1})


def real_esc50() -> Path | None:
    """The real ESC-50 copy beside the checkout (shared/data/esc50-16k), or None."""
    import os

    env = os.environ.get("SOUNDEDIT_ESC50")
    path = (
        Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data" / "esc50-16k"
    )
    return path if (path / "meta" / "esc50.csv").is_file() else None
