"""What every SoundScapes trainer shares: the weights folder, the seeding, the learning-rate
schedule, the fit loop (with its progress lines and snapshots) and the recorded command.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from soundedit.hub import SHIPPED_WEIGHTS
from soundedit.weights_io import load_record

WEIGHTS_DIR = SHIPPED_WEIGHTS / "soundscapes"  # where the world's bundle loads them from
Log = Callable[[str], None]


def cosine_lr(step: int, steps: int, base: float, warmup: int = 100) -> float:
    """Linear warm-up then cosine decay to 5 % of ``base``."""
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, steps - warmup)
    return base * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t)))


def seeded(seed: int) -> torch.Generator:
    """Seed torch's global generator (the models' initialisation) and return the data's own."""
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


@dataclass(frozen=True)
class Progress:
    """How a run reports: ``<name> step <i>/<steps> <figures> <seconds>s`` every ``every``
    steps and at the schedule's last step."""

    name: str  # the model, first word of each line
    log: Log  # where the lines go
    every: int = 100  # steps between lines
    figures: Callable[[float], str] = "loss {:.4f}".format  # the loss as the line shows it


@dataclass(frozen=True)
class Snapshots:
    """Every ``every`` steps (0 = never) before the last, ``save(steps done)`` is called."""

    every: int  # steps between snapshots
    save: Callable[[int], None]  # writes the run so far


def fit(
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable,
    batches: Iterable,
    *,
    steps: int,
    schedule: Callable[[int], float],
    progress: Progress,
    start: int = 0,
    stop: int | None = None,
    after_step: Callable[[], None] | None = None,
    snapshots: Snapshots | None = None,
) -> None:
    """Steps ``start`` .. ``stop`` (default: all ``steps``) of a ``steps``-long run: at each the
    learning rate ``schedule(step)``, the loss of the next of ``batches``, one optimiser step,
    then ``after_step`` (e.g. a clamp), the progress line and any snapshot due."""
    end = steps if stop is None else min(stop, steps)
    began = time.time()
    for step, batch in zip(range(start, end), batches, strict=False):
        for group in optimizer.param_groups:
            group["lr"] = schedule(step)
        loss = loss_fn(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if after_step is not None:
            after_step()
        if step % progress.every == 0 or step == steps - 1:
            shown = progress.figures(float(loss.detach()))
            progress.log(f"{progress.name} step {step}/{steps} {shown} {time.time() - began:.0f}s")
        done = step + 1
        if snapshots is not None and snapshots.every and done % snapshots.every == 0:
            if done < steps:
                snapshots.save(done)


def train_command(
    model: str, seed: int, steps: int, *, resume: bool = False, extra: str = ""
) -> str:
    """The command line that reproduces a training run (stored in the weights' json)."""
    command = f"python -m soundedit soundscapes train --model {model} --seed {seed} --steps {steps}"
    return command + (" --resume" if resume else "") + extra


def previous_runs(path: Path) -> list[dict]:
    """The runs behind the weights at ``path`` (its history, then its own command).

    A resumed run stores this list, so the json of a model trained in several runs names every
    command in order.
    """
    meta = load_record(path)["meta"]
    return [*meta.get("history", []), {k: meta.get(k) for k in ("command", "seconds")}]


def degrade(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Light random blur and noise, so a model trained on renders also reads generator output."""
    b = images.shape[0]
    blurred = nn.functional.avg_pool2d(images, 3, stride=1, padding=1, count_include_pad=False)
    amount = torch.rand(b, 1, 1, 1, generator=generator) * 0.6
    noise = torch.randn(images.shape, generator=generator) * 0.03
    return (images + (blurred - images) * amount + noise).clamp(-1, 1)
