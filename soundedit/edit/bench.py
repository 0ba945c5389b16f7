"""``soundedit bench``: what one edit step costs, per generator configuration.

Random weights throughout (timing does not depend on them). For each configuration and
precision (fp32, bf16 autocast) and each CLIP input path, one row: milliseconds per optimisation
step (generator forward + backward + CLIP ViT-B/32 + Adam, through :func:`edit_steps`), preview
decode milliseconds and peak memory. The CLIP input paths are the authors' (the [-1, 1] image
upsampled x7, nearest, then average-pooled by size/32 to 224, no CLIP normalisation) and ours
(one antialiased bilinear resize to 224 plus CLIP's mean/std). Separate rows time the two resize
paths alone (forward + backward). The ``instant`` row times the default world's instant edit
(its mapper: sound chosen -> picture), median of repeats; the ``edit`` row its whole edit with
the world's defaults (:func:`~soundedit.edit.pipeline.run_to_end`: for SoundScapes 100 steps,
previews, warm start, probe), median of repeats, with the load average beside it (on a shared
machine the other jobs' load moves the figure more than anything else).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import resource
import statistics
import time
from collections.abc import Iterator

import torch
import torch.nn.functional as F

from soundedit.bundle import DEFAULT_BUNDLE, Bundle, load_bundle
from soundedit.edit.mapper import map_edit
from soundedit.edit.optimize import edit_steps, source_from_seed, z_from_seed
from soundedit.edit.pipeline import instant_edit, run_to_end
from soundedit.encoders.audio import embed_sound
from soundedit.encoders.clip import ClipBridge
from soundedit.gan.stylegan2 import Generator, GeneratorConfig
from soundedit.settings import EditConfig, EditRequest

# "instant": the default world's mapper (when it has one); "edit": its whole default edit
CONFIGS = ("256", "1024", "instant", "edit")


def authors_resize(images: torch.Tensor) -> torch.Tensor:
    """The official loss's input: x7 nearest upsampling, then average pooling by size/32."""
    size = images.shape[-1]
    x = F.interpolate(images, scale_factor=7, mode="nearest")
    return F.avg_pool2d(x, kernel_size=size // 32)  # [B, 3, 224, 224]


def our_resize(images: torch.Tensor, size: int = 224) -> torch.Tensor:
    """One antialiased bilinear resize straight to CLIP's input size."""
    return F.interpolate(images, size=(size, size), mode="bilinear", antialias=True)


class BenchClip(ClipBridge):
    """A randomly initialised CLIP ViT-B/32 bridge with either input path.

    "ours" is :meth:`ClipBridge.preprocess` itself; "authors" swaps in :func:`authors_resize`.
    """

    def __init__(self, *, resize: str = "ours"):
        import open_clip

        logging.getLogger().setLevel(logging.ERROR)  # "no pretrained weights" is intended here
        model = open_clip.create_model("ViT-B-32-quickgelu", pretrained=None)
        super().__init__(model, None, name="ViT-B-32-quickgelu")
        self.resize = resize

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        if self.resize == "authors":
            return authors_resize(images.float())
        return super().preprocess(images)


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def time_edit_step(bundle: Bundle, *, steps: int, autocast: str) -> dict[str, float]:
    """Mean and min ms per step over ``steps`` steps after a warm-up step; preview decode ms."""
    G, device = bundle.generator, bundle.device
    w_source = source_from_seed(G, 0, 0.7)
    target = F.normalize(torch.randn(1, bundle.clip.embed_dim), dim=-1).to(device)
    # The world's own latent space and guidance smoothing, at a fixed regulariser.
    config = dataclasses.replace(
        bundle.defaults, steps=steps + 1, preview_every=0, autocast=autocast, lambda_reg=0.008
    )
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    start = time.perf_counter()
    z = z_from_seed(G, 0) if config.space == "z" else None
    for _ in edit_steps(bundle, target, w_source, config=config, z_source=z):
        _sync(device)
        now = time.perf_counter()
        times.append(now - start)
        start = now
    with torch.no_grad(), torch.autocast(device.type, torch.bfloat16, enabled=autocast == "bf16"):
        G.synthesis(w_source.to(device))  # warm-up
        _sync(device)
        start = time.perf_counter()
        G.synthesis(w_source.to(device))
        _sync(device)
        preview = time.perf_counter() - start
    measured = times[1:]
    return {
        "ms_per_step": 1000 * sum(measured) / len(measured),
        # The fastest step is the least disturbed by other processes on a shared machine.
        "min_ms_per_step": 1000 * min(measured),
        "first_step_ms": 1000 * times[0],
        "preview_ms": 1000 * preview,
        "peak_memory_mb": _peak_memory_mb(device),
    }


def time_instant(bundle: Bundle, *, repeats: int = 21) -> dict:
    """Median ms of an instant edit (sound chosen -> picture) over ``repeats`` after a warm-up.

    Two figures: the core (embed the sound + map + decode the picture) and the whole library
    call :func:`~soundedit.edit.pipeline.instant_edit` (also the source picture, similarities,
    recognition and the world's measurements for the report). The sound is 4 s of seeded noise.
    """
    if bundle.mapper is None:
        return {"config": f"instant-{bundle.name}", "skipped": f"{bundle.name} has no mapper"}
    rng = torch.Generator().manual_seed(0)
    sound = (16_000, (0.1 * torch.randn(64_000, generator=rng)).numpy())
    G, truncation = bundle.generator, bundle.defaults.truncation
    z = z_from_seed(G, 0)
    latent = z if bundle.mapper.config.space == "z" else source_from_seed(G, 0, truncation)

    def core():
        target = embed_sound(bundle.audio_encoder, sound)
        _, w = map_edit(bundle, bundle.mapper, target, latent, truncation=truncation)
        with torch.no_grad():
            G.synthesis(w)

    request = EditRequest(audio=sound, seed=0, instant=True)
    return {
        "config": f"instant-{bundle.name}",
        "resolution": G.resolution,
        "instant_core_ms": round(_median_ms(core, repeats, bundle.device), 1),
        "instant_edit_ms": round(
            _median_ms(lambda: instant_edit(bundle, request), repeats, bundle.device), 1
        ),
    }


def time_world_edit(bundle: Bundle, *, repeats: int = 5) -> dict:
    """Seconds of a whole edit with the world's defaults (``run_to_end``: steps, previews, warm
    start, the world's measurements), median and fastest of ``repeats`` after a warm-up edit;
    seeds 1..repeats, the instant row's 4 s of seeded noise as the sound."""
    rng = torch.Generator().manual_seed(0)
    sound = (16_000, (0.1 * torch.randn(64_000, generator=rng)).numpy())
    run_to_end(bundle, EditRequest(audio=sound, seed=0))  # warm-up
    seconds = []
    for seed in range(1, repeats + 1):
        _sync(bundle.device)
        start = time.perf_counter()
        report = run_to_end(bundle, EditRequest(audio=sound, seed=seed)).report
        _sync(bundle.device)
        seconds.append(time.perf_counter() - start)
    median = statistics.median(seconds)
    return {
        "config": f"edit-{bundle.name}",
        "resolution": bundle.generator.resolution,
        "edit_steps": report.steps,
        "repeats": repeats,
        "edit_s": round(median, 3),
        "fastest_edit_s": round(min(seconds), 3),
        "ms_per_step": round(1000 * median / max(report.steps, 1), 1),
        "load_average": round(os.getloadavg()[0], 2),  # of the last minute, this run included
    }


def _median_ms(fn, repeats: int, device: torch.device) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def time_resize(resolution: int, *, device: torch.device, repeats: int = 5) -> Iterator[dict]:
    """Forward + backward ms of the two CLIP input paths for one image of ``resolution``."""
    for name, fn in (("authors", authors_resize), ("ours", our_resize)):
        image = torch.randn(1, 3, resolution, resolution, device=device, requires_grad=True)
        fn(image).sum().backward()  # warm-up
        _sync(device)
        start = time.perf_counter()
        for _ in range(repeats):
            fn(image).square().sum().backward()
        _sync(device)
        ms = 1000 * (time.perf_counter() - start) / repeats
        yield {"resize": name, "resolution": resolution, "ms_forward_backward": round(ms, 2)}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _config_f(resolution: int, device: torch.device):
    torch.manual_seed(0)
    return Generator(GeneratorConfig(resolution=resolution)).to(device).eval()


def run_bench(
    *,
    device: str,
    configs: tuple[str, ...] = CONFIGS,
    steps: int = 3,
    skip_slow: bool = True,
    repeats: int = 5,
) -> Iterator[dict]:
    """Yield one JSON-ready row per measurement (see the module docstring).

    With ``skip_slow`` a 1024 px configuration on the CPU yields a "skipped" row instead.
    ``repeats``: whole edits timed by the ``edit`` row.
    """
    dev = torch.device(device)
    base = {"device": str(dev), "threads": torch.get_num_threads(), "steps": steps}
    for name in configs:
        if name == "instant":
            yield {**base, **time_instant(load_bundle(DEFAULT_BUNDLE, device=dev))}
            continue
        if name == "edit":
            bundle = load_bundle(DEFAULT_BUNDLE, device=dev)
            yield {**base, **time_world_edit(bundle, repeats=repeats)}
            continue
        resolution = int(name)
        if resolution >= 1024 and dev.type == "cpu" and skip_slow:
            yield {**base, "config": f"{name}-config-f", "skipped": _SKIP_1024}
            yield from time_resize(resolution, device=dev, repeats=2)  # cheap, and it shows most
            continue
        generator = _config_f(resolution, dev)
        for resize in ("ours", "authors"):
            clip = BenchClip(resize=resize).to(dev)
            bundle = Bundle(f"{name}-config-f", generator, clip, None, None, EditConfig())
            for autocast in ("off", "bf16"):
                row = time_edit_step(bundle, steps=steps, autocast=autocast)
                yield {
                    **base,
                    "config": f"{name}-config-f",
                    "resolution": resolution,
                    "n_latent": generator.n_latent,
                    "precision": "fp32" if autocast == "off" else "bf16-autocast",
                    "clip_input": resize,
                    **{k: round(v, 1) for k, v in row.items()},
                }
        yield from time_resize(resolution, device=dev)
        del generator


_SKIP_1024 = (
    "skipped on CPU (minutes per step on a small CPU); run with --configs 1024 to measure it"
)
