"""The README's docs/live-volume.png: the page's instant preview of one sound at several volumes.

    python -m scripts.live_volume_strip                      # docs/live-volume.png, rain.wav
    python -m scripts.live_volume_strip --sound assets/sounds/fire.wav --measure fire \
        --volumes -40 -32 -24 -16 -8 0 --out out/fire-volume.png

Each tile is what the page shows under the volume slider at that position (demo.instant, the
same call), back at the world's own size and enlarged 3x without smoothing; the first tile is
the starting picture. Under each: the volume and what the world's measure reads off the picture.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from demo.instant import instant_preview
from soundedit.bundle import load_bundle
from soundedit.edit.pipeline import render_latent
from soundedit.edit.targets import source_latent
from soundedit.settings import EditRequest

ROOT = Path(__file__).resolve().parents[1]
VOLUMES = (-30, -27, -24, -21, -18, -15)  # dB: where the example rain turns the picture rainy
SCALE, LABEL, GAP = 3, 28, 4  # tile enlargement, label band (px), gap between tiles (px)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sound", default=str(ROOT / "assets" / "sounds" / "rain.wav"))
    parser.add_argument("--world", default="soundscapes")
    parser.add_argument("--seed", type=int, default=0, help="the page's seed (default 0)")
    parser.add_argument("--volumes", type=float, nargs="+", default=VOLUMES, help="dB")
    parser.add_argument("--measure", default="rain", help="what the world measures, per tile")
    parser.add_argument("--out", default=str(ROOT / "docs" / "live-volume.png"))
    return parser.parse_args(argv)


def world_pixels(picture: np.ndarray, bundle) -> np.ndarray:
    """A picture as the page shows it, back at the world's size (one pixel per block)."""
    step = max(picture.shape[0] // bundle.generator.resolution, 1)
    return picture[::step, ::step]


def tiles_of(bundle, args) -> list[tuple[str, np.ndarray]]:
    """(label, uint8 picture at the world's size): the start, then each volume."""
    start = EditRequest(seed=args.seed)
    source = render_latent(bundle, source_latent(bundle, start).to(bundle.device))
    tiles = [(f"start{measured(bundle, source, args.measure)}", source)]
    for volume in args.volumes:
        preview = instant_preview(bundle, EditRequest(audio=args.sound, gain_db=volume,
                                                      seed=args.seed))  # fmt: skip
        if preview.image is None:
            raise SystemExit(preview.note or f"the {args.world} world has no instant preview")
        picture = world_pixels(preview.image, bundle)
        tiles.append((f"{volume:+g} dB{measured(bundle, picture, args.measure)}", picture))
    return tiles


def measured(bundle, picture: np.ndarray, name: str) -> str:
    """' · rain 0.49': what the world's measure reads off the picture ('' without one)."""
    if bundle.measure is None:
        return ""
    return f" · {name} {bundle.measure([picture])[0][name]:.2f}"


def write_sheet(tiles: list[tuple[str, np.ndarray]], out: Path) -> Path:
    h, w = tiles[0][1].shape[:2]
    sheet = Image.new("RGB", (len(tiles) * (w * SCALE + GAP) - GAP, h * SCALE + LABEL), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=15)
    for i, (label, tile) in enumerate(tiles):
        x = i * (w * SCALE + GAP)
        big = Image.fromarray(tile).resize((w * SCALE, h * SCALE), Image.Resampling.NEAREST)
        sheet.paste(big, (x, 0))
        draw.text((x + 3, h * SCALE + 5), label, fill="black", font=font)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out


def main(argv=None) -> None:
    args = parse_args(argv)
    bundle = load_bundle(args.world)
    tiles = tiles_of(bundle, args)
    print(write_sheet(tiles, Path(args.out)))
    for label, _ in tiles:
        print(label)


if __name__ == "__main__":
    main()
