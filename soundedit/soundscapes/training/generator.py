"""Training the world's generator: G(z) regressed onto render(params_from_z(z)), optionally with
the tiny CLIP's perceptual term, the events' weight and the conditional adversarial term."""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import torch

from soundedit.encoders.clip import ClipBridge
from soundedit.errors import ConfigError
from soundedit.gan.checkpoints import load_generator, save_generator
from soundedit.gan.stylegan2 import Generator, config_from_dict
from soundedit.soundscapes import adversarial as adv
from soundedit.soundscapes.adversarial import RunState
from soundedit.soundscapes.training.fit import (
    WEIGHTS_DIR,
    Log,
    Progress,
    Snapshots,
    cosine_lr,
    fit,
    previous_runs,
    seeded,
    train_command,
)
from soundedit.soundscapes.training.generator_loss import paired_loss

# The small StyleGAN2 of the world: 64 px, 64-d styles, few channels (fast on a CPU). The 32 and
# 64 px layers carry the thin details (rain streaks, flakes, waves, birds): with 32/16 channels
# there the generator stayed blurry however long it trained, so they are twice that.
GENERATOR_CONFIG: dict = {
    "resolution": 64,
    "style_dim": 64,
    "n_mlp": 4,
    "channels": {4: 256, 8: 256, 16: 128, 32: 64, 64: 32},
    "lr_mlp": 1.0,  # the mapping must learn z -> scene quickly (0.01 leaves it nearly frozen)
}
SNAPSHOT_DIR = Path("out") / "soundscapes-snapshots"


def build_generator() -> Generator:
    """A fresh generator with :data:`GENERATOR_CONFIG`."""
    return Generator(config_from_dict(GENERATOR_CONFIG))


def train_generator(
    *,
    seed: int = 0,
    steps: int = 10_000,
    batch: int = 16,
    resume: bool = False,
    stop_after: int | None = None,
    clip_features: float = 0.0,
    event_weight: float = 0.0,
    per_event: bool = False,
    adversarial: float = 0.0,
    r1: float = 1.0,
    continue_from: str | Path | None = None,
    snapshot_every: int = 1000,
    snapshot_dir: str | Path | None = None,
    out: str | Path | None = None,
    log: Log = print,
) -> Path:
    """Regress G(z) onto render(params_from_z(z)); writes ``out``/generator.* (default
    weights/soundscapes/).

    With ``resume`` the run starts from the committed generator (a further cosine cycle; its
    seed should differ from the first run's so that it sees new scenes). ``stop_after`` ends
    the run after that many steps of the ``steps``-long schedule (what a snapshot of a longer
    run holds). ``clip_features`` weighs a perceptual term; ``event_weight`` the error where
    the events show (each event on its own with ``per_event``; see :mod:`.generator_loss`);
    ``adversarial`` a conditional patch discriminator's term with an R1 penalty of weight ``r1``
    (:mod:`soundedit.soundscapes.adversarial`). Every ``snapshot_every`` steps (0 = never) the
    generator so far and the run's state go to ``snapshot_dir`` (default
    ``out/soundscapes-snapshots/``, outside git); ``continue_from`` (a ``state-*.pt`` of the
    same command) carries such a run on exactly where it stopped.
    """
    run = _GeneratorRun(seed, steps, batch, resume, adversarial, r1)
    run.features = _clip_features(clip_features)
    if continue_from is not None:
        run.restore(continue_from)
    start = time.time()
    snapshots = Path(snapshot_dir) if snapshot_dir is not None else SNAPSHOT_DIR
    run.fit(
        stop_after,
        partial(run.loss, events=event_weight, per_event=per_event),
        Snapshots(snapshot_every, partial(run.snapshot, snapshots)),
        log,
    )
    G = run.G.eval()
    with torch.no_grad():
        G.compute_mean_w(4096, torch.Generator().manual_seed(seed))
    extra = _generator_args(stop_after, clip_features, event_weight, per_event, adversarial, r1)
    meta = {
        "command": train_command("generator", seed, steps, resume=resume, extra=extra),
        "seconds": round(time.time() - start, 1),
        "history": run.history,
        "params_from_z": "soundscapes.params.params_from_z: prior quantile of Phi(z[:12])",
    }
    folder = Path(out) if out is not None else WEIGHTS_DIR
    return save_generator(G, folder / "generator.safetensors", meta)


def _clip_features(weight: float):
    """(weight, the frozen tiny CLIP's embed_image, which keeps the grad), or None for 0."""
    if not weight:
        return None
    return weight, ClipBridge.from_file(WEIGHTS_DIR / "clip").embed_image


class _GeneratorRun:
    """The generator (and, adversarial, the discriminator) with their optimisers and data."""

    def __init__(self, seed, steps, batch, resume, adversarial, r1):
        self.data = seeded(seed)
        self.seed, self.steps, self.batch, self.step = seed, steps, batch, 0
        if resume:
            self.G = load_generator(WEIGHTS_DIR / "generator.safetensors").train()
        else:
            self.G = build_generator()
        self.history = previous_runs(WEIGHTS_DIR / "generator") if resume else []
        self.peak = 2e-3 if resume else 5e-3
        self.opt = torch.optim.Adam(self.G.parameters(), lr=self.peak, betas=(0.9, 0.99))
        self.features = None
        self.adversarial, self.r1 = adversarial, r1
        self.D = adv.PatchDiscriminator() if adversarial else None
        self.opt_d = adv.make_discriminator_optimizer(self.D) if adversarial else None

    def fit(self, stop: int | None, loss_fn, snapshots: Snapshots, log: Log) -> None:
        """Train from the run's step to ``stop`` (default: the end) on :meth:`latents`."""
        fit(
            self.opt,
            loss_fn,
            self.latents(),
            steps=self.steps,
            schedule=partial(cosine_lr, steps=self.steps, base=self.peak),
            progress=Progress("generator", log),
            start=self.step,
            stop=stop,
            snapshots=snapshots,
        )

    def latents(self) -> Iterator[torch.Tensor]:
        """Endless batches of z [B, S] from the run's data generator."""
        while True:
            yield torch.randn(self.batch, self.G.style_dim, generator=self.data)

    def loss(self, z: torch.Tensor, *, events: float, per_event: bool) -> torch.Tensor:
        """G's loss on ``z``, after one step of the discriminator when there is one."""
        loss, fake, target, params = paired_loss(
            self.G, z, self.features, events=events, per_event=per_event
        )
        if self.D is not None:
            adv.discriminator_step(self.D, self.opt_d, fake, target, params, r1=self.r1)
            loss = loss + self.adversarial * adv.adversarial_term(self.D, fake, params)
        return loss

    def state(self) -> RunState:
        return RunState(
            step=self.step,
            generator=self.G.state_dict(),
            generator_opt=self.opt.state_dict(),
            data_rng=self.data.get_state(),
            discriminator=self.D.state_dict() if self.D is not None else None,
            discriminator_opt=self.opt_d.state_dict() if self.D is not None else None,
        )

    def restore(self, path: str | Path) -> None:
        """Continue from a saved :class:`~.adversarial.RunState` of the same command."""
        state = RunState.load(path)
        if (state.discriminator is None) != (self.D is None):
            raise ConfigError(
                f"{path} is the state of a run {'without' if self.D is None else 'with'} the "
                "adversarial term; continue it with the command that made it"
            )
        self.G.load_state_dict(state.generator)
        self.opt.load_state_dict(state.generator_opt)
        self.data.set_state(state.data_rng)
        if self.D is not None:
            self.D.load_state_dict(state.discriminator)
            self.opt_d.load_state_dict(state.discriminator_opt)
        self.step = state.step

    def snapshot(self, folder: Path, done: int) -> None:
        """The generator after ``done`` steps (with its mean w) and the run's state, for a look
        or to go on."""
        self.step = done
        self.state().save(folder / f"state-{self.step:06d}.pt")
        mean_w = self.G.mean_w.clone()
        with torch.no_grad():
            self.G.compute_mean_w(1024, torch.Generator().manual_seed(self.seed))
        save_generator(
            self.G, folder / f"generator-{self.step:06d}.safetensors", {"step": self.step}
        )
        self.G.mean_w.copy_(mean_w)  # the state's mean w stays the training one


def _generator_args(
    stop_after: int | None,
    clip_features: float,
    events: float,
    per_event: bool,
    adversarial: float = 0.0,
    r1: float = 1.0,
) -> str:
    stop = f" --stop-after {stop_after}" if stop_after is not None else ""
    clip = f" --clip-features {clip_features:g}" if clip_features else ""
    event = f" --event-weight {events:g}" if events else ""
    adv = f" --adversarial {adversarial:g} --r1 {r1:g}" if adversarial else ""
    return stop + clip + event + (" --per-event" if per_event else "") + adv
