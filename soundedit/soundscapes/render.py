"""Scene parameters -> a small landscape picture (torch, batched, deterministic).

Layers are painted back to front with soft masks, so every event is *graded*: more rain means
more streaks and more haze, more snow a larger white share of the ground and more flakes, a bigger
fire a taller flame and a wider glow, more birds more birds, a wider sea, a brighter bolt.
Random-looking details (cloud shapes, rain streaks, flakes, stars) come from fixed patterns made
once from a fixed seed, so the same parameters always give the same pixels.

``render(params [B, P]) -> images [B, 3, S, S]`` in [-1, 1] (the generator's range);
:func:`to_uint8` turns them into pictures.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from soundedit.soundscapes.params import INDEX, check_params

DEFAULT_SIZE = 64
_PATTERN_SEED = 20240611


def render(params: torch.Tensor, *, size: int = DEFAULT_SIZE) -> torch.Tensor:
    """Paint scenes: ``params`` [B, P] in [0, 1] -> images [B, 3, size, size] in [-1, 1]."""
    check_params(params)
    device = params.device
    pat = _patterns(size, str(device))
    p = {name: params[:, i].float().view(-1, 1, 1) for name, i in INDEX.items()}
    y, x = pat["y"], pat["x"]  # [1, S, S], 0 = top / left
    px = 1.0 / size

    horizon = 0.58 + 0.1 * (p["layout"] - 0.5)  # [B, 1, 1]
    light = (1 - 0.78 * p["night"]) * (1 - 0.3 * p["clouds"])
    img = _sky(p, y, horizon)
    img = _paint(img, _stars(p, pat), torch.tensor([1.0, 1.0, 0.9], device=device))
    img = _celestial(img, p, y, x, px)
    img = _clouds(img, p, pat, y, horizon, px)
    img = _birds(img, p, pat)
    img = _mountains(img, p, y, x, horizon, px)
    img = _ground(img, p, pat, y, x, horizon, px)
    img = _gusts_on_ground(img, p, y, x, horizon)
    img = _trees(img, p, y, x, horizon, px)
    img = img * light.unsqueeze(1)
    img = _fire(img, p, y, x, horizon, px)
    img = _weather(img, p, pat, light, px)
    img = _lightning(img, p, pat, y, horizon, px)
    return img.clamp(0, 1) * 2 - 1


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Images [B, 3, H, W] in [-1, 1] -> uint8 array [B, H, W, 3]."""
    arr = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return arr.permute(0, 2, 3, 1).cpu().numpy()


def contact_sheet(images: torch.Tensor, *, columns: int = 8, scale: int = 2) -> np.ndarray:
    """Tile images [B, 3, H, W] into one uint8 picture (for looking at renders)."""
    pics = to_uint8(images)
    b, h, w, _ = pics.shape
    rows = math.ceil(b / columns)
    sheet = np.full((rows * (h + 2), columns * (w + 2), 3), 255, np.uint8)
    for i, pic in enumerate(pics):
        r, c = divmod(i, columns)
        sheet[r * (h + 2) : r * (h + 2) + h, c * (w + 2) : c * (w + 2) + w] = pic
    return sheet.repeat(scale, 0).repeat(scale, 1)


# --- layers -------------------------------------------------------------------------------------


def _rgb(*values: float, device) -> torch.Tensor:
    return torch.tensor(values, device=device).view(1, 3, 1, 1)


def _smooth(t: torch.Tensor) -> torch.Tensor:
    t = t.clamp(0, 1)
    return t * t * (3 - 2 * t)


def _soft(d: torch.Tensor, px: float) -> torch.Tensor:
    """A mask that is 1 where ``d`` > 0, with a one-pixel soft edge."""
    return torch.sigmoid(d / px * 2.0)


def _paint(img: torch.Tensor, alpha: torch.Tensor, color: torch.Tensor) -> torch.Tensor:
    """Alpha-composite ``color`` ([3] or [B, 3, H, W]) over ``img`` with ``alpha`` [B, H, W]."""
    if color.ndim == 1:
        color = color.view(1, 3, 1, 1)
    a = alpha.unsqueeze(1).clamp(0, 1)
    return img * (1 - a) + color * a


def _three_way(t: torch.Tensor, a, b, c) -> torch.Tensor:
    """Piecewise-linear colour: a at t=0, b at t=0.5, c at t=1 (t [B,1,1] -> [B,3,1,1])."""
    t = t.unsqueeze(1)
    first = a + (b - a) * (t / 0.5).clamp(0, 1)
    return first + (c - b) * ((t - 0.5) / 0.5).clamp(0, 1)


def _sky(p, y, horizon):
    dev = y.device
    top = _three_way(
        p["night"],
        _rgb(0.25, 0.5, 0.92, device=dev),
        _rgb(0.32, 0.28, 0.55, device=dev),
        _rgb(0.02, 0.03, 0.10, device=dev),
    )
    low = _three_way(
        p["night"],
        _rgb(0.68, 0.83, 0.97, device=dev),
        _rgb(0.74, 0.52, 0.52, device=dev),
        _rgb(0.08, 0.10, 0.22, device=dev),
    )
    t = (y / horizon).clamp(0, 1).unsqueeze(1)  # [B, 1, S, S]
    sky = top + (low - top) * t
    grey = sky.mean(dim=1, keepdim=True) * 0.85
    overcast = 0.75 * p["clouds"].unsqueeze(1) ** 1.5
    return sky + (grey - sky) * overcast


def _stars(p, pat):
    return pat["stars"] * (_smooth((p["night"] - 0.35) / 0.5)) * (1 - p["clouds"]) ** 2


def _celestial(img, p, y, x, px):
    dev = img.device
    cx = 0.78 - 0.5 * (p["layout"] - 0.5)
    cy = 0.16 + 0.1 * p["night"]
    disc = _soft(0.065 - torch.sqrt((x - cx) ** 2 + (y - cy) ** 2), px)
    color = _three_way(
        p["night"],
        _rgb(1.0, 0.97, 0.7, device=dev),
        _rgb(1.0, 0.55, 0.25, device=dev),
        _rgb(0.9, 0.92, 1.0, device=dev),
    )
    return _paint(img, disc * (1 - p["clouds"]) ** 2, color)


def _clouds(img, p, pat, y, horizon, px):
    dev = img.device
    cover = p["clouds"] * 0.95
    field = pat["cloud_field"] + 0.25 * (y / horizon).clamp(0, 1)  # fewer clouds near the horizon
    mask = _soft(cover - field, px * 0.6) * (y < horizon).float()
    shade = 0.95 - 0.6 * p["clouds"].unsqueeze(1) - 0.15 * pat["cloud_field"].unsqueeze(1)
    color = shade * _rgb(1.0, 1.0, 1.02, device=dev)
    return _paint(img, mask, color.clamp(0, 1))


def _birds(img, p, pat):
    count = p["birds"] * pat["birds"].shape[0]  # [B, 1, 1]
    index = torch.arange(pat["birds"].shape[0], device=img.device).view(1, -1, 1, 1)
    visible = (count.unsqueeze(1) - index).clamp(0, 1)  # [B, N, 1, 1]
    alpha = (visible * pat["birds"].unsqueeze(0)).amax(dim=1)
    return _paint(img, alpha, torch.tensor([0.08, 0.07, 0.07], device=img.device))


def _ridge(x, p):
    phase = 2 * math.pi * p["layout"]
    shape = (
        0.55
        + 0.25 * torch.sin(2 * math.pi * 1.3 * x + phase)
        + 0.2 * torch.sin(2 * math.pi * 3.1 * x + 2 * phase)
    )
    return shape * (0.08 + 0.32 * p["mountains"])


def _mountains(img, p, y, x, horizon, px):
    dev = img.device
    height = _ridge(x, p)
    top = horizon - height
    mask = _soft(y - top, px) * _soft(horizon + px - y, px)
    rock = _rgb(0.36, 0.38, 0.5, device=dev) - 0.12 * ((y - top) / (height + 1e-3)).clamp(
        0, 1
    ).unsqueeze(1)
    img = _paint(img, mask, rock)
    cap = _soft(top + height * 0.75 * p["snow"] - y, px) * mask
    return _paint(img, cap, torch.tensor([0.95, 0.96, 1.0], device=dev))


def _ground(img, p, pat, y, x, horizon, px):
    dev = img.device
    g = p["ground"]
    color = _three_way(
        g,
        _rgb(0.3, 0.56, 0.2, device=dev),
        _rgb(0.86, 0.76, 0.5, device=dev),
        _rgb(0.46, 0.43, 0.4, device=dev),
    )
    depth = ((y - horizon) / (1 - horizon)).clamp(0, 1).unsqueeze(1)
    color = color * (0.85 + 0.25 * depth) + 0.06 * (pat["ground_field"].unsqueeze(1) - 0.5)
    land = _soft(y - horizon, px)
    img = _paint(img, land, color.clamp(0, 1))
    snow = _soft(p["snow"] * 1.05 - pat["snow_field"], px * 0.5) * land
    img = _paint(img, snow, torch.tensor([0.93, 0.95, 1.0], device=dev))
    # The sea comes in from the right; its width and its waves grow with `sea`.
    shore = 1.0 - 0.85 * p["sea"] - 0.15 * (y - horizon)
    water = _soft(x - shore, px) * land * (p["sea"] > 0.01).float()
    waves = torch.sin(2 * math.pi * (y * 10 + 1.0 * torch.sin(2 * math.pi * x * 1.5)))
    foam = _soft(waves - (1.0 - 0.9 * p["sea"]), px * 8) * water * 0.8
    img = _paint(img, water, torch.tensor([0.1, 0.33, 0.62], device=dev))
    return _paint(img, foam, torch.tensor([0.85, 0.93, 1.0], device=dev))


def _gusts_on_ground(img, p, y, x, horizon):
    """Wind sweeps bright diagonal bands through the grass, sand or rock (not the sea)."""
    dev = img.device
    depth = ((y - horizon) / (1 - horizon)).clamp(0, 1)
    bands = 0.5 + 0.5 * torch.sin(2 * math.pi * (3.0 * x - 5.0 * depth) + 1.3)
    land = (y > horizon).float() * (x < 1.0 - 0.85 * p["sea"]).float()
    sand = torch.tensor([0.9, 0.88, 0.7], device=dev)
    return _paint(img, 0.55 * p["wind"] * bands**2 * land, sand)


def _trees(img, p, y, x, horizon, px):
    dev = img.device
    for tx, scale in ((0.1, 1.0), (0.42, 0.75), (0.6, 0.6)):
        base = horizon + 0.12 * scale
        height = 0.28 * scale
        rel = ((base - y) / height).clamp(0, 1)  # 0 at the foot, 1 at the tip
        bend = p["wind"] * 0.3 * scale * rel**1.3
        cx = tx + bend
        trunk = (
            _soft(0.012 * scale - (x - cx).abs(), px * 0.5)
            * _soft(base - y, px)
            * _soft(y - (base - 0.35 * height), px)
        )
        img = _paint(img, trunk, torch.tensor([0.35, 0.22, 0.12], device=dev))
        half = 0.075 * scale * (1 - rel) * (1 - 0.45 * p["wind"])
        crown = (
            _soft(half - (x - cx).abs(), px * 0.5)
            * _soft(y - (base - height), px)
            * _soft(base - 0.3 * height - y, px)
        )
        leaf = _rgb(0.1, 0.35, 0.15, device=dev) * (1 - 0.3 * p["snow"].unsqueeze(1)) + 0.6 * p[
            "snow"
        ].unsqueeze(1)
        img = _paint(img, crown, leaf.clamp(0, 1))
    return img


def _fire(img, p, y, x, horizon, px):
    dev = img.device
    f = p["fire"]
    cx = 0.25 + 0.25 * p["layout"]
    base = horizon + 0.3 * (1 - horizon) + 0.05
    on = (f > 0.01).float()
    r2 = (x - cx) ** 2 + (y - base) ** 2
    glow = torch.exp(-r2 / (2 * (0.04 + 0.16 * f) ** 2)) * (0.15 + 0.75 * f) * on
    img = img + glow.unsqueeze(1) * _rgb(1.0, 0.45, 0.1, device=dev) * (
        0.4 + 0.6 * _smooth(p["night"])
    ).unsqueeze(1)
    logs = _soft(0.05 - (x - cx).abs(), px * 0.5) * _soft(0.012 - (y - base).abs(), px * 0.5) * on
    img = _paint(img, logs, torch.tensor([0.3, 0.17, 0.08], device=dev))
    height = 0.04 + 0.3 * f
    rel = (base - y) / height  # 0 at the logs, 1 at the tip
    width = (0.025 + 0.07 * f) * (1 - rel.clamp(0, 1)) ** 0.7 * (rel > -0.1).float()
    flame = (
        _soft(width - (x - cx).abs(), px * 0.5)
        * _soft(base + 0.005 - y, px)
        * _soft(1 - rel, 0.1)
        * on
    )
    inner = (
        _soft(width * 0.5 - (x - cx).abs(), px * 0.5)
        * _soft(base - y, px)
        * _soft(0.6 - rel, 0.05)
        * on
    )
    img = _paint(img, flame, torch.tensor([1.0, 0.42, 0.05], device=dev))
    return _paint(img, inner, torch.tensor([1.0, 0.88, 0.3], device=dev))


def _weather(img, p, pat, light, px):
    dev = img.device
    rain = p["rain"]
    haze = 0.4 * rain * (1 - 0.4 * light.clamp(0, 1)) + 0.15 * rain
    img = _paint(
        img, haze.expand(-1, *img.shape[2:]), torch.tensor([0.45, 0.48, 0.55], device=dev) * 0.9
    )
    streaks = _soft(rain * 0.45 - pat["rain"], px * 0.1) * (rain > 0.01).float()
    img = _paint(img, streaks * 0.75, torch.tensor([0.72, 0.78, 0.9], device=dev))
    # Wind: long pale streamers of blown spray and dust across the sky; more wind, more of them.
    streamers = _soft(p["wind"] * 0.55 - pat["wind"], px * 0.4) * (p["wind"] > 0.01).float()
    img = _paint(img, streamers * 0.7, torch.tensor([0.93, 0.9, 0.82], device=dev))
    flakes = _soft(p["snow"] * 0.35 - pat["flakes"], px * 0.1) * (p["snow"] > 0.01).float()
    return _paint(img, flakes, torch.tensor([1.0, 1.0, 1.0], device=dev))


def _lightning(img, p, pat, y, horizon, px):
    dev = img.device
    lit = p["lightning"]
    on = (lit > 0.01).float()
    flash = 0.45 * lit * on * (y < horizon + 0.05).float()
    img = _paint(img, flash, torch.tensor([0.9, 0.9, 1.0], device=dev))
    bolt = (
        _soft(0.4 * px + 1.4 * px * lit - pat["bolt_distance"], px * 0.5) * on * (0.4 + 0.6 * lit)
    )
    bolt = bolt * (y < horizon + 0.02).float()
    return _paint(img, bolt, torch.tensor([1.0, 1.0, 0.8], device=dev))


# --- fixed random patterns ---------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _patterns(size: int, device: str) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(_PATTERN_SEED)
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    pat = {
        "y": y[None],
        "x": x[None],
        "cloud_field": _ranked_noise(size, (3, 6), g),
        "snow_field": _ranked_noise(size, (6, 6), g),
        "ground_field": _ranked_noise(size, (16, 16), g),
        "rain": _streak_field(size, g, count=260, length=6, slope=(0.35, 1.0), scale=0.45),
        "wind": _streamer_field(size, g),
        "flakes": _streak_field(size, g, count=220, length=1, slope=(0.0, 1.0), scale=0.35),
        "stars": _stars_pattern(size, g),
        "birds": _bird_masks(size, g),
        "bolt_distance": _bolt_distance(size, g),
    }
    return {k: v.to(device) for k, v in pat.items()}


def _ranked_noise(size: int, cells: tuple[int, int], g: torch.Generator) -> torch.Tensor:
    """Smooth noise whose values are uniform ranks in [0, 1] (a threshold t covers a t share)."""
    coarse = torch.rand(1, 1, *cells, generator=g)
    fine = torch.nn.functional.interpolate(
        coarse, size=(size, size), mode="bicubic", align_corners=False
    )
    fine = fine + 0.15 * torch.nn.functional.interpolate(
        torch.rand(1, 1, cells[0] * 3, cells[1] * 3, generator=g),
        size=(size, size),
        mode="bilinear",
    )
    flat = fine.flatten()
    ranks = torch.empty_like(flat)
    ranks[flat.argsort()] = torch.linspace(0, 1, flat.numel())
    return ranks.view(1, size, size)


def _streak_field(size, g, *, count, length, slope, scale, ymax=1.0) -> torch.Tensor:
    """Each pixel holds the smallest threshold of the streaks through it (1 where none)."""
    field = torch.ones(size, size)
    thresholds = torch.rand(count, generator=g) * scale
    starts = torch.rand(count, 2, generator=g)
    dx, dy = slope
    norm = math.hypot(dx, dy)
    for (sx, sy), t in zip(starts.tolist(), thresholds.tolist(), strict=True):
        for k in range(length):
            xi = int(sx * size + k * dx / norm) % size
            yi = int(sy * size * ymax + k * dy / norm)
            if 0 <= yi < size:
                field[yi, xi] = min(field[yi, xi].item(), t)
    return field[None]


def _streamer_field(size, g) -> torch.Tensor:
    """Long horizontal bands (ranked noise stretched 8:1) in the sky's upper 60 %, 1 below."""
    bands = _ranked_noise(size, (16, 2), g)
    rows = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    return torch.where(rows.view(1, -1, 1) < 0.6, bands, torch.ones_like(bands))


def _stars_pattern(size, g) -> torch.Tensor:
    stars = torch.zeros(size, size)
    pos = torch.rand(40, 2, generator=g)
    for sx, sy in pos.tolist():
        stars[int(sy * size * 0.45), int(sx * size)] = 0.6 + 0.4 * sx
    return stars[None]


def _bird_masks(size, g) -> torch.Tensor:
    n = 16
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    masks = torch.zeros(n, size, size)
    centres = torch.rand(n, 2, generator=g)
    px = 1.0 / size
    for i, (cx, cy) in enumerate(centres.tolist()):
        cx, cy = 0.08 + 0.84 * cx, 0.07 + 0.36 * cy
        wing = 0.07
        dxs = (x - cx).abs()
        v = cy - 0.7 * (wing - dxs)  # a "v": wings rise away from the body
        masks[i] = torch.sigmoid((1.4 * px - (y - v).abs()) / px * 3) * (dxs < wing).float()
    return masks


def _bolt_distance(size, g) -> torch.Tensor:
    """Distance from every pixel to a fixed jagged bolt from the top edge down to the hills."""
    pts = [(0.32, 0.0)]
    for _ in range(7):
        x0, y0 = pts[-1]
        pts.append((x0 + (torch.rand(1, generator=g).item() - 0.5) * 0.12, y0 + 0.07))
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    dist = torch.full((size, size), 10.0)
    for (ax, ay), (bx, by) in zip(pts[:-1], pts[1:], strict=True):
        vx, vy = bx - ax, by - ay
        t = (((x - ax) * vx + (y - ay) * vy) / (vx * vx + vy * vy)).clamp(0, 1)
        d = torch.sqrt((x - ax - t * vx) ** 2 + (y - ay - t * vy) ** 2)
        dist = torch.minimum(dist, d)
    return dist[None]
