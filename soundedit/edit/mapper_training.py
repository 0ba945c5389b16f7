"""Training a latent mapper with the edit's own objective (seeded, resumable).

Every step draws a batch of sources and of targets from a bank of unit CLIP-space embeddings
(the world's sounds, real clips, captions), a share of them blended pairwise, and takes one Adam
step on :func:`mapper_loss`. Sources are drawn as the app starts its edits: a share
(``start_share``) is the world's start of a random seed (its bundle's ``start`` hook, e.g.
SoundScapes' calm scene), the rest random z as drawn (the "seed, any scene" start, and every
source of a world without the hook). Step ``i`` draws from its own generator seeded by
``(seed, i)``, so a resumed run draws what an unbroken one would. A run may start from a
trained mapper's weights (``init``: a fine-tune). Snapshots (the mapper pair and the resumable
state) are written to ``out_dir`` every ``snapshot_seconds`` and at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from soundedit.edit.mapper import mapper_loss
from soundedit.edit.targets import start_z
from soundedit.encoders.audio import embed_sound
from soundedit.errors import ConfigError
from soundedit.mapper import LatentMapper, new_mapper, save_mapper
from soundedit.settings import EditConfig
from soundedit.train.checkpoint import has_state, load_state, save_state


@dataclass(frozen=True)
class MapperTraining:
    """Settings of a mapper's training run."""

    steps: int = 20_000  # Adam steps
    batch: int = 16  # sources (and targets) per step
    lr: float = 1e-3  # Adam learning rate (constant)
    blend_share: float = 0.25  # share of targets that blend two bank targets at a random weight
    start_share: float = 0.7  # share of sources at the world's start (where its bundle has one)
    start_seeds: int = 100_000  # world starts come from seeds 0 .. start_seeds-1 (evals: above)
    hidden: int = 512  # mapper width
    depth: int = 3  # mapper hidden layers
    seed: int = 0  # seeds the mapper's init and every step's draws
    snapshot_seconds: float = 180.0  # write a snapshot at least this often
    log_every: int = 25  # steps between log lines


def draw_batch(bundle, bank: torch.Tensor, training: MapperTraining, config: EditConfig, step: int):
    """(sources, targets, rng) of ``step``: z [B, S] (or W+ [B, L, S]) and unit targets [B, D]."""
    G = bundle.generator
    rng = torch.Generator().manual_seed(training.seed * 1_000_003 + step)
    B = training.batch
    z = torch.randn(B, G.style_dim, generator=rng)  # [B, S]
    targets = bank[torch.randint(len(bank), (B,), generator=rng)].float()  # [B, D]
    others = bank[torch.randint(len(bank), (B,), generator=rng)].float()
    weight = torch.rand(B, 1, generator=rng)
    blend = torch.rand(B, 1, generator=rng) < training.blend_share
    mixed = torch.nn.functional.normalize(weight * targets + (1 - weight) * others, dim=-1)
    targets = torch.where(blend, mixed, targets)
    device = G.mean_w.device
    z = z.to(device)
    if training.start_share > 0 and bundle.start is not None:
        # Drawn after the rest, so a run without world starts draws what it always did.
        seeds = torch.randint(training.start_seeds, (B,), generator=rng).tolist()
        at_start = (torch.rand(B, generator=rng) < training.start_share).tolist()
        starts = zip(seeds, at_start, strict=True)
        z = torch.stack([start_z(bundle, s)[0] if a else z[i] for i, (s, a) in enumerate(starts)])
    if config.space == "z":
        return z, targets.to(device), rng
    with torch.no_grad():
        w_plus = G.w_plus(G.mapping(z, truncation=config.truncation))  # [B, L, S]
    return w_plus, targets.to(device), rng


def check_bank(bundle, bank: torch.Tensor) -> None:
    """Raise ConfigError unless ``bank`` is [N, D] of finite rows in the bundle's CLIP space."""
    D = bundle.clip.embed_dim
    if bank.ndim != 2 or bank.shape[1] != D or len(bank) == 0:
        raise ConfigError(f"a target bank is [N, {D}] unit embeddings, got {list(bank.shape)}")
    if not torch.isfinite(bank).all():
        raise ConfigError("the target bank holds NaN or infinite values")


def train_mapper(
    bundle,
    bank: torch.Tensor,
    out_dir: str | Path,
    *,
    training: MapperTraining = MapperTraining(),
    resume: bool = False,
    init: LatentMapper | None = None,
    meta: dict | None = None,
    log: Callable[[str], None] = print,
) -> LatentMapper:
    """Train a mapper for ``bundle`` on targets drawn from ``bank`` [N, D]; returns it.

    ``out_dir`` receives ``mapper.safetensors/.json`` (with ``meta`` and the step reached) and
    ``state.safetensors/.json`` (to resume). With ``init`` the run starts from that mapper's
    weights (a fine-tune, with a fresh optimiser); with ``resume`` it continues from its state.

    Raises:
        ConfigError: the bank is not [N, D] unit rows, or ``init`` is not a mapper of the
            training's size for this world.
    """
    check_bank(bundle, bank)
    out_dir = Path(out_dir)
    config = bundle.defaults
    torch.manual_seed(training.seed)
    mapper = new_mapper(bundle, hidden=training.hidden, depth=training.depth).train()
    if init is not None:
        if init.config != mapper.config:
            raise ConfigError(
                f"the mapper to start from is {init.config}; this run trains {mapper.config}"
            )
        mapper.load_state_dict(init.state_dict())
    optimizer = torch.optim.Adam(mapper.parameters(), lr=training.lr)
    start = 0
    if resume and has_state(out_dir / "state"):
        start = int(load_state(out_dir / "state", mapper, optimizer)["step"])
        log(f"mapper: resumed at step {start}")
    last_snapshot, running = time.monotonic(), None
    for step in range(start, training.steps):
        latent, targets, rng = draw_batch(bundle, bank, training, config, step)
        terms = _train_step(bundle, mapper, optimizer, latent, targets, rng)
        running = (
            terms if running is None else {k: 0.9 * running[k] + 0.1 * terms[k] for k in terms}
        )
        if (step + 1) % training.log_every == 0:
            log(f"mapper step {step + 1}: " + " ".join(f"{k} {v:.4f}" for k, v in running.items()))
        due = time.monotonic() - last_snapshot > training.snapshot_seconds
        if due or step + 1 == training.steps:
            snapshot(mapper, optimizer, out_dir, training, step + 1, meta)
            last_snapshot = time.monotonic()
    return mapper.eval()


def _train_step(bundle, mapper, optimizer, latent, targets, rng) -> dict[str, float]:
    """One Adam step on the objective of a batch; returns its terms (moving only the mapper)."""
    loss, terms = mapper_loss(bundle, mapper, latent, targets, bundle.defaults, rng)
    grads = torch.autograd.grad(loss, list(mapper.parameters()))
    for p, g in zip(mapper.parameters(), grads, strict=True):
        p.grad = g
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return terms


def snapshot(mapper, optimizer, out_dir: Path, training: MapperTraining, step: int, meta) -> Path:
    """Write the mapper pair and the resumable state of ``step`` into ``out_dir``."""
    save_state(out_dir / "state", mapper, optimizer, training, {"step": step})
    return save_mapper(mapper, out_dir / "mapper", {**(meta or {}), "step": step})


@torch.no_grad()
def held_out_loss(
    bundle, mapper: LatentMapper, bank: torch.Tensor, *, seed: int = 100_000, batch: int = 16
) -> float:
    """The objective on one fixed batch drawn from ``seed`` (sources and targets not trained on
    when ``seed`` is outside the training's step range)."""
    training = MapperTraining(batch=batch, seed=0)
    latent, targets, rng = draw_batch(bundle, bank, training, bundle.defaults, seed)
    return mapper_loss(bundle, mapper, latent, targets, bundle.defaults, rng)[1]["total"]


AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


@torch.no_grad()
def embedding_bank(bundle, sounds: list[Path], texts: list[str]) -> torch.Tensor:
    """A target bank [N, D] for any world: its audio encoder on ``sounds`` (files), its CLIP
    text tower on ``texts``.

    Raises:
        ConfigError: neither sounds nor texts were given.
    """
    if not sounds and not texts:
        raise ConfigError("a mapper needs targets: give sound files, captions, or both")
    rows = [embed_sound(bundle.audio_encoder, path).float().cpu() for path in sounds]
    for i in range(0, len(texts), 64):
        rows.append(bundle.clip.embed_text(texts[i : i + 64]).float().cpu())
    return torch.nn.functional.normalize(torch.cat(rows), dim=-1)


def sound_files(folder: str | Path) -> list[Path]:
    """The audio files under ``folder`` (recursively), sorted.

    Raises:
        FileNotFoundError: ``folder`` does not exist.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"sound folder {folder} does not exist")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
