"""Training the probe: it regresses the scene parameters of degraded renders of prior samples."""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import torch
from torch import nn

from soundedit.soundscapes.params import PARAM_NAMES, sample_params
from soundedit.soundscapes.probe import Probe, load_probe, save_probe
from soundedit.soundscapes.render import render
from soundedit.soundscapes.training.fit import (
    WEIGHTS_DIR,
    Log,
    Progress,
    cosine_lr,
    degrade,
    fit,
    previous_runs,
    seeded,
    train_command,
)


def train_probe(
    *, seed: int = 0, steps: int = 2500, batch: int = 64, resume: bool = False, log: Log = print
) -> Path:
    """Train the probe on renders of prior samples; writes weights/soundscapes/probe.*

    With ``resume`` it continues from the committed probe at half the learning rate.
    """
    g = seeded(seed)
    probe = load_probe(WEIGHTS_DIR / "probe").train() if resume else Probe()
    history = previous_runs(WEIGHTS_DIR / "probe") if resume else []
    peak = 1e-3 if resume else 2e-3
    opt = torch.optim.AdamW(probe.parameters(), lr=peak, weight_decay=1e-4)
    start = time.time()
    fit(
        opt,
        lambda batch: (probe.regress(batch[1]) - batch[0]).abs().mean(),
        probe_batches(batch, g),
        steps=steps,
        schedule=partial(cosine_lr, steps=steps, base=peak),
        progress=Progress("probe", log, every=200, figures="L1 {:.4f}".format),
    )
    probe.eval()
    errors = probe_errors(probe, n=512, seed=10_000 + seed)
    meta = {
        "command": train_command("probe", seed, steps, resume=resume),
        "seconds": round(time.time() - start, 1),
        "history": history,
        "heldout_mae": errors,
    }
    log(f"probe held-out MAE {errors}")
    return save_probe(probe, WEIGHTS_DIR / "probe", meta)


def probe_batches(batch: int, g: torch.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless (params [B, P], degraded renders [B, 3, R, R]) of prior samples drawn from ``g``."""
    while True:
        params = sample_params(batch, g)
        yield params, degrade(render(params), g)


@torch.no_grad()
def probe_errors(probe: nn.Module, *, n: int = 512, seed: int = 10_000) -> dict[str, float]:
    """Mean absolute error of the probe per parameter on ``n`` held-out renders."""
    params = sample_params(n, torch.Generator().manual_seed(seed))
    predicted = torch.cat([probe(render(chunk)) for chunk in params.split(128)])
    mae = (predicted - params).abs().mean(dim=0)
    return {name: round(float(v), 4) for name, v in zip(PARAM_NAMES, mae, strict=True)}
