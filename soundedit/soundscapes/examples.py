"""Example sounds for the app and the README, made by the synthesiser (with a matching render).

``python -m soundedit soundscapes examples`` writes ``assets/sounds/NAME.wav`` (16 kHz, 16-bit)
and ``NAME.png`` for each entry of :data:`EXAMPLES`; with ``--strip FILE`` it also edits the
app's starting picture with every example sound and tiles source -> result (the README's strip).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from PIL import Image, ImageDraw

from soundedit.bundle import load_bundle
from soundedit.soundscapes.evaluate import edit_with
from soundedit.soundscapes.params import make_params
from soundedit.soundscapes.render import render, to_uint8
from soundedit.soundscapes.synth import RATE, synthesize

# name -> scene parameters (unnamed ones take make_params' calm defaults).
EXAMPLES: dict[str, dict[str, float]] = {
    "rain": {"rain": 1.0, "clouds": 0.7},
    "light_rain": {"rain": 0.3, "clouds": 0.5},
    "thunderstorm": {"lightning": 1.0, "rain": 0.3, "clouds": 0.9},
    "fire": {"fire": 1.0},
    "wind": {"wind": 1.0},
    "birds": {"birds": 1.0},
    "sea": {"sea": 1.0},
    "crickets_night": {"night": 1.0, "clouds": 0.0},
    "snow_steps": {"snow": 1.0},
    "rain_and_fire": {"rain": 0.7, "fire": 0.7},
}


def write_examples(out_dir: str | Path, *, seed: int = 0) -> list[Path]:
    """Write every example's WAV and PNG into ``out_dir``; returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (name, values) in enumerate(EXAMPLES.items()):
        params = make_params(**values)
        audio = synthesize(params, seed=seed * 1000 + i)[0]
        wav = out / f"{name}.wav"
        sf.write(wav, audio, RATE, subtype="PCM_16")
        png = out / f"{name}.png"
        Image.fromarray(to_uint8(render(params, size=128))[0]).save(png)
        paths += [wav, png]
    return paths


def write_strip(
    sounds_dir: str | Path,
    out_png: str | Path,
    *,
    seed: int = 0,
    steps: int | None = None,
    bundle=None,
) -> Path:
    """Edit the picture of ``seed`` with each example sound in ``sounds_dir`` (the world's own
    defaults, as the app runs it) and write one picture: a labelled column per example, the
    source on top and the result below, each upscaled 3x without smoothing."""
    bundle = bundle or load_bundle("soundscapes")
    tiles = []
    for name in EXAMPLES:
        audio, rate = sf.read(Path(sounds_dir) / f"{name}.wav", dtype="float32")
        result = edit_with(bundle, audio=(rate, audio), seed=seed, steps=steps)
        tiles.append((name, np.concatenate([result.images["source"], result.images["sound"]])))
    scale, label, gap = 3, 14, 4
    h, w = tiles[0][1].shape[:2]
    sheet = Image.new("RGB", (len(tiles) * (w * scale + gap) - gap, h * scale + label), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (name, tile) in enumerate(tiles):
        x = i * (w * scale + gap)
        big = Image.fromarray(tile).resize((w * scale, h * scale), Image.Resampling.NEAREST)
        sheet.paste(big, (x, label))
        draw.text((x + 2, 1), name.replace("_", " "), fill="black")
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out
