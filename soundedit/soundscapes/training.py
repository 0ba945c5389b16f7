"""Seeded trainers for the SoundScapes models (probe, generator, tiny CLIP, audio encoder).

Each ``train_*`` function makes its data on the fly from the renderer / synthesiser, is fully
determined by its seed, logs a line every few hundred steps, and writes its weights under
``weights/soundscapes/`` (safetensors + json with the command settings and the wall time).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from soundedit.encoders.clip import ClipBridge
from soundedit.errors import ConfigError
from soundedit.hub import SHIPPED_WEIGHTS
from soundedit.soundscapes import adversarial as adv
from soundedit.soundscapes.adversarial import RunState
from soundedit.soundscapes.nonsounds import TRAIN_KINDS, make_nonsounds
from soundedit.soundscapes.params import PARAM_NAMES, sample_params
from soundedit.soundscapes.render import render

WEIGHTS_DIR = SHIPPED_WEIGHTS / "soundscapes"  # where the world's bundle loads them from
Log = Callable[[str], None]


def cosine_lr(step: int, steps: int, base: float, warmup: int = 100) -> float:
    """Linear warm-up then cosine decay to 5 % of ``base``."""
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, steps - warmup)
    return base * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t)))


def train_command(
    model: str, seed: int, steps: int, *, resume: bool = False, extra: str = ""
) -> str:
    """The command line that reproduces a training run (stored in the weights' json)."""
    command = f"python -m soundedit soundscapes train --model {model} --seed {seed} --steps {steps}"
    return command + (" --resume" if resume else "") + extra


def previous_runs(name: str) -> list[dict]:
    """The runs behind the committed weights ``name`` (its history, then its own command).

    A resumed run stores this list, so the json of a model trained in several runs names every
    command in order.
    """
    from soundedit.weights_io import load_record

    meta = load_record(WEIGHTS_DIR / name)["meta"]
    return [*meta.get("history", []), {k: meta.get(k) for k in ("command", "seconds")}]


def degrade(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Light random blur and noise, so a model trained on renders also reads generator output."""
    b = images.shape[0]
    blurred = nn.functional.avg_pool2d(images, 3, stride=1, padding=1, count_include_pad=False)
    amount = torch.rand(b, 1, 1, 1, generator=generator) * 0.6
    noise = torch.randn(images.shape, generator=generator) * 0.03
    return (images + (blurred - images) * amount + noise).clamp(-1, 1)


# --- probe ---------------------------------------------------------------------------------------


def train_probe(
    *, seed: int = 0, steps: int = 2500, batch: int = 64, resume: bool = False, log: Log = print
) -> Path:
    """Train the probe on renders of prior samples; writes weights/soundscapes/probe.*

    With ``resume`` it continues from the committed probe at half the learning rate.
    """
    from soundedit.soundscapes.probe import Probe, load_probe, save_probe

    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    probe = load_probe(WEIGHTS_DIR / "probe").train() if resume else Probe()
    history = previous_runs("probe") if resume else []
    peak = 1e-3 if resume else 2e-3
    opt = torch.optim.AdamW(probe.parameters(), lr=peak, weight_decay=1e-4)
    start = time.time()
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = cosine_lr(step, steps, peak)
        params = sample_params(batch, g)
        images = degrade(render(params), g)
        loss = (probe.regress(images) - params).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 200 == 0 or step == steps - 1:
            log(f"probe step {step}/{steps} L1 {loss.item():.4f} {time.time() - start:.0f}s")
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


@torch.no_grad()
def probe_errors(probe: nn.Module, *, n: int = 512, seed: int = 10_000) -> dict[str, float]:
    """Mean absolute error of the probe per parameter on ``n`` held-out renders."""
    params = sample_params(n, torch.Generator().manual_seed(seed))
    predicted = torch.cat([probe(render(chunk)) for chunk in params.split(128)])
    mae = (predicted - params).abs().mean(dim=0)
    return {name: round(float(v), 4) for name, v in zip(PARAM_NAMES, mae, strict=True)}


# --- generator -----------------------------------------------------------------------------------

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


def build_generator():
    """A fresh generator with :data:`GENERATOR_CONFIG`."""
    from soundedit.gan.stylegan2 import Generator, config_from_dict

    return Generator(config_from_dict(GENERATOR_CONFIG))


def generator_images(G, z: torch.Tensor) -> torch.Tensor:
    """G(z) through the mapping network at truncation 1: [B, 3, R, R]."""
    return G.synthesis(G.w_plus(G.mapping(z)))


def regression_loss(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """L1 + L2 at full resolution, L1 at half resolution, on image gradients and on edge energy.

    The L2 term pulls towards the conditional mean early on (L1 alone first settles on the
    median scene, where sparse events such as fire are absent). The gradient term asks for each
    edge where the render has it; the edge-energy term (gradient magnitude pooled over 4 x 4
    pixels) asks for as much detail in each neighbourhood as the render has even where the
    exact position is not learned yet, which is what keeps G(z) from settling on a blur.
    """
    loss = (fake - real).abs().mean() + 2 * (fake - real).square().mean()
    loss = (
        loss + (nn.functional.avg_pool2d(fake, 2) - nn.functional.avg_pool2d(real, 2)).abs().mean()
    )
    for dim in (2, 3):
        loss = loss + 1.5 * (fake.diff(dim=dim) - real.diff(dim=dim)).abs().mean()
    return loss + 2 * (edge_energy(fake) - edge_energy(real)).abs().mean()


def edge_energy(images: torch.Tensor) -> torch.Tensor:
    """Mean |gradient| over the channels, pooled over 4 x 4 pixels: [B, 1, H/4, W/4]."""
    gx = images.diff(dim=3).abs()[..., :-1, :]
    gy = images.diff(dim=2).abs()[..., :, :-1]
    return nn.functional.avg_pool2d((gx + gy).mean(dim=1, keepdim=True), 4)


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
    run holds). ``clip_features`` weighs a perceptual term (:func:`feature_distance`);
    ``event_weight`` the error where the events show (:func:`event_mask`; each event on its
    own with ``per_event``: :func:`event_weights`); ``adversarial`` a conditional patch
    discriminator's term with an R1 penalty of weight ``r1`` (:mod:`.adversarial`). Every
    ``snapshot_every`` steps (0 = never) the generator so far and the run's state go to
    ``snapshot_dir`` (default ``out/soundscapes-snapshots/``, outside git); ``continue_from``
    (a ``state-*.pt`` of the same command) carries such a run on exactly where it stopped.
    """
    run = _GeneratorRun(seed, steps, batch, resume, adversarial, r1)
    run.features = _clip_features(clip_features)
    if continue_from is not None:
        run.restore(continue_from)
    snapshots = Path(snapshot_dir) if snapshot_dir is not None else SNAPSHOT_DIR
    start = time.time()
    for step in range(run.step, steps if stop_after is None else min(stop_after, steps)):
        loss = run.train_step(step, events=event_weight, per_event=per_event)
        if step % 100 == 0 or step == steps - 1:
            log(f"generator step {step}/{steps} loss {loss:.4f} {time.time() - start:.0f}s")
        if snapshot_every and (step + 1) % snapshot_every == 0 and step + 1 < steps:
            run.snapshot(snapshots)
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
    from soundedit.gan.checkpoints import save_generator

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
        from soundedit.gan.checkpoints import load_generator

        torch.manual_seed(seed)
        self.seed, self.steps, self.batch, self.step = seed, steps, batch, 0
        self.data = torch.Generator().manual_seed(seed)
        if resume:
            self.G = load_generator(WEIGHTS_DIR / "generator.safetensors").train()
        else:
            self.G = build_generator()
        self.history = previous_runs("generator") if resume else []
        self.peak = 2e-3 if resume else 5e-3
        self.opt = torch.optim.Adam(self.G.parameters(), lr=self.peak, betas=(0.9, 0.99))
        self.features = None
        self.adversarial, self.r1 = adversarial, r1
        self.D = adv.PatchDiscriminator() if adversarial else None
        self.opt_d = adv.make_discriminator_optimizer(self.D) if adversarial else None

    def train_step(self, step: int, *, events: float, per_event: bool) -> float:
        """One step of the generator (after one of the discriminator); returns G's loss."""
        for group in self.opt.param_groups:
            group["lr"] = cosine_lr(step, self.steps, self.peak)
        z = torch.randn(self.batch, self.G.style_dim, generator=self.data)
        loss, fake, target, params = paired_loss(
            self.G, z, self.features, events=events, per_event=per_event
        )
        if self.D is not None:
            adv.discriminator_step(self.D, self.opt_d, fake, target, params, r1=self.r1)
            loss = loss + self.adversarial * adv.adversarial_term(self.D, fake, params)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.step = step + 1
        return float(loss.detach())

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

    def snapshot(self, folder: Path) -> None:
        """The generator so far (with its mean w) and the run's state, for a look or to go on."""
        from soundedit.gan.checkpoints import save_generator

        self.state().save(folder / f"state-{self.step:06d}.pt")
        mean_w = self.G.mean_w.clone()
        with torch.no_grad():
            self.G.compute_mean_w(1024, torch.Generator().manual_seed(self.seed))
        save_generator(
            self.G, folder / f"generator-{self.step:06d}.safetensors", {"step": self.step}
        )
        self.G.mean_w.copy_(mean_w)  # the state's mean w stays the training one


def generator_loss(
    G, z: torch.Tensor, features=None, events: float = 0.0, per_event: bool = False
) -> torch.Tensor:
    """The loss of G(z) against render(params_from_z(z)): :func:`regression_loss`, plus with
    ``features`` = (weight, embed) the weighted :func:`feature_distance` of their embeddings,
    plus ``events`` times the mean error where the scene's events show (:func:`event_mask`;
    with ``per_event`` each event's pixels are averaged on their own: :func:`event_weights`)."""
    return paired_loss(G, z, features, events=events, per_event=per_event)[0]


def paired_loss(G, z: torch.Tensor, features=None, *, events: float = 0.0, per_event=False):
    """(:func:`generator_loss`, G(z), the render, the scene params [B, P]) of latents ``z``."""
    from soundedit.soundscapes.params import params_from_z

    params = params_from_z(z)
    with torch.no_grad():
        target = render(params)
        weights = None
        if events:
            weights = event_weights(params, target) if per_event else event_mask(params, target)
            weights = weights / (weights.sum() + 1e-6)
    fake = generator_images(G, z)
    loss = regression_loss(fake, target)
    if features is not None:
        weight, embed = features
        loss = loss + weight * feature_distance(embed, fake, target)
    if weights is not None:
        error = (fake - target).abs().mean(dim=1, keepdim=True)
        loss = loss + events * (weights * error).sum()
    return loss, fake, target, params


def event_weights(params: torch.Tensor, rendered: torch.Tensor) -> torch.Tensor:
    """Each sparse event present in the batch gets the same total weight, spread over where it
    shows (|render - render without that event|): [B, 1, H, W], summing to the event count.

    Under :func:`event_mask` a flock of birds is a few percent of the batch's event pixels next
    to rain and sea; here it weighs as much as each of them.
    """
    from soundedit.soundscapes.params import INDEX, SPARSE

    total = torch.zeros_like(rendered[:, :1])
    for name in SPARSE:
        present = params[:, INDEX[name]] > 0
        if not present.any():
            continue
        without = params[present].clone()
        without[:, INDEX[name]] = 0.0
        diff = (rendered[present] - render(without)).abs().mean(dim=1, keepdim=True)
        total[present] += diff / (diff.sum() + 1e-6)
    return total


def event_mask(params: torch.Tensor, rendered: torch.Tensor) -> torch.Tensor:
    """Where the sparse events (rain ... sea) show: |render - render without them|, [B, 1, H, W].

    A small event (a flock of birds is 6 % of the picture) weighs little in a mean over all
    pixels; the error averaged over this mask counts it as much as a downpour.
    """
    from soundedit.soundscapes.params import INDEX, SPARSE

    without = params.clone()
    without[:, [INDEX[name] for name in SPARSE]] = 0.0
    return (rendered - render(without)).abs().mean(dim=1, keepdim=True)


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


def feature_distance(embed, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean cosine distance between the unit embeddings (``embed``) of G(z) and of the render
    it should draw.

    With the tiny CLIP's image tower this asks for what the captions name (a flock of birds,
    bent trees) even where a small shape's pixel error is small.
    """
    with torch.no_grad():
        wanted = embed(real)
    return (1 - (embed(fake) * wanted).sum(dim=-1)).mean()


SNAPSHOT_DIR = Path("out") / "soundscapes-snapshots"


# --- tiny CLIP ---------------------------------------------------------------------------------

# The open_clip architecture of the tiny CLIP, as open_clip model-config data.
CLIP_CONFIG: dict = {
    "embed_dim": 64,
    "vision_cfg": {
        "image_size": 64,
        "layers": 4,
        "width": 128,
        "patch_size": 8,
        "head_width": 32,
        "mlp_ratio": 2.0,
    },
    "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 4, "layers": 3},
}


def build_tiny_clip(config: dict = CLIP_CONFIG) -> nn.Module:
    """A fresh open_clip ``CLIP`` model from :data:`CLIP_CONFIG`."""
    import open_clip

    return open_clip.model.CLIP(
        embed_dim=config["embed_dim"],
        vision_cfg=open_clip.model.CLIPVisionCfg(**config["vision_cfg"]),
        text_cfg=open_clip.model.CLIPTextCfg(**config["text_cfg"]),
    )


def clip_normalize(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] images -> CLIP input (OpenAI mean/std, open_clip's default preprocess)."""
    from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD

    mean = torch.tensor(OPENAI_DATASET_MEAN, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(OPENAI_DATASET_STD, device=images.device).view(1, 3, 1, 1)
    return ((images + 1) / 2 - mean) / std


def tokenize(texts: list[str], config: dict = CLIP_CONFIG) -> torch.Tensor:
    import open_clip

    return open_clip.tokenize(texts, context_length=config["text_cfg"]["context_length"])


def train_clip(
    *, seed: int = 0, steps: int = 1500, batch: int = 96, resume: bool = False, log: Log = print
) -> Path:
    """Train the tiny CLIP with open_clip's ClipLoss on (render, caption) pairs.

    With ``resume`` it continues from the committed CLIP at half the learning rate.
    """
    from open_clip.loss import ClipLoss

    from soundedit.soundscapes.captions import captions
    from soundedit.weights_io import load_weights

    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = build_tiny_clip()
    history = []
    if resume:
        tensors, _ = load_weights(WEIGHTS_DIR / "clip", kind="open_clip")
        model.load_state_dict({k: v.float() for k, v in tensors.items()})
        history = previous_runs("clip")
    peak = 5e-4 if resume else 1e-3
    loss_fn = ClipLoss()
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in n)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0}],
        lr=1e-3,
        betas=(0.9, 0.98),
    )
    start = time.time()
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = cosine_lr(step, steps, peak, warmup=200)
        params = sample_params(batch, g)
        images = clip_normalize(degrade(render(params), g))
        texts = tokenize(captions(params, seed=seed * 1_000_003 + step))
        image_features, text_features, logit_scale = model(images, texts)
        loss = loss_fn(image_features, text_features, logit_scale)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        if step % 100 == 0 or step == steps - 1:
            log(
                f"clip step {step}/{steps} loss {loss.item():.3f} scale {logit_scale.item():.1f} "
                f"{time.time() - start:.0f}s"
            )
    model.eval()
    accuracy = clip_zero_shot(model, n_per_class=50, seed=20_000 + seed)
    log(f"clip zero-shot accuracy {accuracy:.3f}")
    meta = {
        "command": train_command("clip", seed, steps, resume=resume),
        "seconds": round(time.time() - start, 1),
        "history": history,
        "zero_shot_accuracy": round(accuracy, 4),
    }
    return save_clip(model, WEIGHTS_DIR / "clip", meta)


@dataclass(frozen=True)
class ClipModelConfig:
    embed_dim: int  # joint embedding width
    vision_cfg: dict  # open_clip CLIPVisionCfg fields
    text_cfg: dict  # open_clip CLIPTextCfg fields


def save_clip(model: nn.Module, path: Path, meta: dict) -> Path:
    """fp16 open_clip state dict + its model config (the open_clip JSON) as the record's config."""
    from soundedit.weights_io import save_weights

    tensors = {k: v.half() for k, v in model.state_dict().items()}
    config = ClipModelConfig(**CLIP_CONFIG)
    return save_weights(path, tensors, kind="open_clip", config=config, meta=meta)


@torch.no_grad()
def clip_zero_shot(model: nn.Module, *, n_per_class: int = 50, seed: int = 20_000) -> float:
    """Accuracy of CLIP naming the dominant event of held-out renders from the class prompts."""
    from soundedit.soundscapes.captions import CLASS_PROMPTS
    from soundedit.soundscapes.params import CLASSES, sample_for_class

    g = torch.Generator().manual_seed(seed)
    text = nn.functional.normalize(
        model.encode_text(tokenize(list(CLASS_PROMPTS.values()))), dim=-1
    )
    correct = 0
    for label, name in enumerate(CLASSES):
        images = clip_normalize(render(sample_for_class(name, n_per_class, g)))
        image = nn.functional.normalize(model.encode_image(images), dim=-1)
        correct += int(((image @ text.T).argmax(dim=1) == label).sum())
    return correct / (n_per_class * len(CLASSES))


# --- audio encoder -------------------------------------------------------------------------------

AUDIO_ENCODER_CONFIG: dict = {
    "backbone": "small_cnn",
    "stem": "timm1",
    "embed_dim": CLIP_CONFIG["embed_dim"],
    "front_end": "soundscapes",
    "widths": (32, 64, 128, 256),
}


def scene_items(n: int, *, seed: int, recorded: float = 0.0) -> list:
    """``n`` training items: half prior scenes, half scenes dominated by one class (balanced).

    Each item pairs the scene's sound (16 kHz waveform), its caption, its render (the "video
    frame") and its dominant class (for the weak-pair term); the group is the scene id. A share
    ``recorded`` of the sounds is played through a random recording chain (room, microphone,
    noise, converter; the level moves by at most 2 dB so that loudness still means intensity).
    """
    from soundedit.soundscapes.captions import captions
    from soundedit.soundscapes.params import CLASSES, dominant_class, sample_for_class
    from soundedit.soundscapes.synth import RATE, synthesize
    from soundedit.train import TrainItem

    g = torch.Generator().manual_seed(seed)
    focused = [sample_for_class(CLASSES[i % len(CLASSES)], 1, g, low=0.3) for i in range(n // 2)]
    params = torch.cat([sample_params(n - n // 2, g), *focused])
    sounds = synthesize(params, seed=seed)
    if recorded:
        sounds = record_some(sounds, RATE, share=recorded, seed=seed)
    texts = captions(params, seed=seed)
    labels = dominant_class(params)
    images = torch.cat([render(chunk) for chunk in params.split(256)])
    return [
        TrainItem(
            audio=(RATE, sounds[i]),
            text=texts[i],
            label=labels[i],
            image=images[i],
            group=f"scene-{seed}-{i}",
        )
        for i in range(n)
    ]


def record_some(sounds, rate: int, *, share: float, seed: int):
    """``sounds`` [B, n] with a random ``share`` of rows played through a recording chain."""
    import dataclasses

    import numpy as np

    from soundedit.audio.recording import DEFAULT_CHAIN, simulate_recording

    chain = dataclasses.replace(DEFAULT_CHAIN, level_db=(-2.0, 2.0))
    rng = np.random.default_rng([seed, 7])
    out = sounds.copy()
    for i in range(len(out)):
        if rng.random() < share:
            out[i] = simulate_recording(out[i], rate, rng, chain=chain)
    return out


REAL_FOLDS = (1, 2, 3)  # fold 4 is held out for validation (soundscapes eval --real)
REAL_VARIANTS = 12  # random takes of each real in-world clip


def train_audio(
    *,
    seed: int = 0,
    steps: int = 1500,
    n_items: int = 2000,
    real: Path | None = None,
    real_folds: tuple[int, ...] = REAL_FOLDS,
    resume: bool = False,
    log: Log = print,
) -> Path:
    """Train the audio encoder with soundedit.train (all four losses) against the tiny CLIP.

    With ``resume`` it continues from the committed encoder at half the learning rate (after
    the tiny CLIP was itself resumed, so that the two spaces stay close).

    ``real`` is a folder in the ESC-50 layout: its in-world clips of ``real_folds`` join the
    synthetic scenes (audio<->text, self-supervised and weak-pair terms; see realworld.py).
    """
    from soundedit.encoders.audio import load_audio_encoder, save_audio_encoder
    from soundedit.train import train_audio_encoder

    start = time.time()
    torch.manual_seed(seed)
    clip = ClipBridge.from_file(WEIGHTS_DIR / "clip")
    train_items = scene_items(n_items, seed=seed, recorded=0.6)
    if real is not None:
        from soundedit.soundscapes.realworld import read_clips, real_items

        clips = read_clips(real, folds=real_folds, roles=("event",))
        train_items += real_items(clips, variants=REAL_VARIANTS, seed=seed)
        log(f"audio: {len(clips)} real in-world clips x {REAL_VARIANTS} takes from {real}")
    val_items = scene_items(128, seed=50_000 + seed)
    log(f"audio: {len(train_items)} training items made in {time.time() - start:.0f}s")
    config = _audio_config(seed=seed, steps=steps, n_train=len(train_items), resume=resume)
    encoder = load_audio_encoder(WEIGHTS_DIR / "audio_encoder").train() if resume else None
    history = previous_runs("audio_encoder") if resume else []
    result = train_audio_encoder(
        config, train_items, val_items, clip=clip, encoder=encoder, log=log
    )
    real_args = _real_args(real, real_folds)
    meta = {
        "command": train_command("audio", seed, steps, resume=resume, extra=real_args),
        "seconds": round(time.time() - start, 1),
        "history": history,
        "last_epoch": result.history[-1] if result.history else {},
        "losses": "text + image + augment + weak_kl (soundedit.train)",
        "real_audio": REAL_AUDIO_NOTE if real is not None else None,
    }
    return save_audio_encoder(result.encoder.eval(), WEIGHTS_DIR / "audio_encoder", meta)


def _audio_config(*, seed: int, steps: int, n_train: int, resume: bool, batch: int = 64):
    """The audio encoder's TrainConfig: all four losses, AdamW, cosine, half lr when resumed."""
    from soundedit.train import LossConfig, TrainConfig

    return TrainConfig(
        encoder=dict(AUDIO_ENCODER_CONFIG),
        epochs=max(1, math.ceil(steps / (n_train // batch))),
        max_steps=steps,
        batch_size=batch,
        optimizer="adamw",
        lr=1e-3 if resume else 2e-3,
        weight_decay=1e-4,
        schedule="cosine",
        warmup_steps=50,
        losses=LossConfig(text=1.0, image=1.0, augment=1.0, weak_kl=1.0),
        seed=seed,
        progress=False,
        val_every=5,
    )


REAL_AUDIO_NOTE = (
    "trained on real recordings from ESC-50 (K. J. Piczak, ACM Multimedia 2015; CC BY-NC 3.0): "
    "these weights are for non-commercial use"
)


def _real_args(real: Path | None, folds: tuple[int, ...]) -> str:
    if real is None:
        return ""
    return f" --real ESC50_DIR --real-folds {' '.join(map(str, folds))}"


def train_recogniser(
    *,
    seed: int = 0,
    steps: int = 0,
    real: Path | None = None,
    real_folds: tuple[int, ...] = REAL_FOLDS,
    nonsounds: int = 0,
    hidden: int = 0,
    log: Log = print,
) -> Path:
    """Fit the open-set recogniser (recognise.py) on the committed audio encoder's embeddings.

    Positives: the real in-world clips of ``real_folds`` (each whole and as 3 random takes) and
    1,024 synthetic scenes; negatives: the real clips from outside the world (whole + 1 take)
    and ``nonsounds`` generated non-sounds of each training kind (nonsounds.py; the held-out
    kinds are never fitted on), each kind in one fold of the cross-validation. The score is a
    logistic regression on the embedding, or on a ``hidden``-unit ReLU layer when > 0.
    ``steps`` is unused (an L-BFGS fit); it is accepted so that ``train --model all`` can pass
    one value to every model.
    """
    from soundedit.soundscapes.recognise import ACCEPT, fit_recogniser, save_recogniser

    if real is None:
        raise ConfigError(
            "the recogniser needs real recordings: pass --real with a folder in the ESC-50 "
            "layout (meta/esc50.csv + audio/)"
        )
    extra = _recogniser_args(nonsounds, hidden)
    start = time.time()
    data = recogniser_data(real, real_folds=real_folds, seed=seed, nonsounds=nonsounds)
    model, figures = fit_recogniser(**data, hidden=hidden, seed=seed)
    meta = {
        "command": train_command("recogniser", seed, 0).replace(" --steps 0", "")
        + _real_args(real, real_folds)
        + extra,
        "seconds": round(time.time() - start, 1),
        "threshold": round(float(model.threshold), 4),
        "threshold_rule": (
            f"accepts {ACCEPT:.0%} of the out-of-fold real in-world scores (cross-validation "
            f"over folds {', '.join(map(str, figures['folds']))})"
        ),
        "out_of_fold": {k: round(v, 4) for k, v in figures.items() if k != "folds"},
        "fit": {
            "real_inside": len(data["inside"]),
            "synthetic": len(data["synthetic"]),
            "real_outside": len(data["outside"]),
        },
        "real_audio": REAL_AUDIO_NOTE,
    }
    if nonsounds:
        meta["fit"].update(nonsounds=len(data["nonsounds"]), nonsound_kinds=sorted(TRAIN_KINDS))
    if hidden:
        meta["score"] = f"logistic regression on a {hidden}-unit ReLU layer (Adam)"
    log(f"recogniser: threshold {meta['threshold']}, {meta['threshold_rule']}")
    log(f"recogniser: out of fold {meta['out_of_fold']}")
    return save_recogniser(model, WEIGHTS_DIR / "recogniser", meta)


def _recogniser_args(nonsounds: int, hidden: int) -> str:
    """The command-line options of a recogniser fit (checked: neither may be below 0)."""
    if nonsounds < 0 or hidden < 0:
        raise ConfigError(
            f"--nonsounds and --hidden must be 0 or more, got {nonsounds} and {hidden}"
        )
    return (f" --nonsounds {nonsounds}" if nonsounds else "") + (
        f" --hidden {hidden}" if hidden else ""
    )


def recogniser_data(
    real: Path, *, real_folds: tuple[int, ...], seed: int, nonsounds: int = 0
) -> dict:
    """The keyword arguments of ``fit_recogniser``: the committed encoder's embeddings of
    every positive and negative of :func:`train_recogniser`, with their folds."""
    from soundedit.encoders.audio import load_audio_encoder
    from soundedit.soundscapes.captions import CLASS_PROMPTS
    from soundedit.soundscapes.realworld import read_clips

    encoder = load_audio_encoder(WEIGHTS_DIR / "audio_encoder")
    clip = ClipBridge.from_file(WEIGHTS_DIR / "clip")
    clips = read_clips(real, folds=real_folds)
    inside = _whole_and_takes([c for c in clips if c.event], takes=3, seed=seed + 1)
    outside = _whole_and_takes([c for c in clips if c.event is None], takes=1, seed=seed + 2)
    synthetic = scene_items(1024, seed=70_000 + seed, recorded=0.6)
    generated = make_nonsounds(TRAIN_KINDS, per_kind=nonsounds, seed=80_000 + seed)
    kind_fold = {k: real_folds[i % len(real_folds)] for i, k in enumerate(sorted(TRAIN_KINDS))}
    with torch.no_grad():
        prompts = clip.embed_text(list(CLASS_PROMPTS.values())).float()
    return {
        "prompts": prompts,
        "inside": embed_sounds(encoder, [x for _, x in inside]),
        "inside_folds": [c.fold for c, _ in inside],
        "outside": embed_sounds(encoder, [x for _, x in outside]),
        "outside_folds": [c.fold for c, _ in outside],
        "synthetic": embed_sounds(encoder, [it.audio[1] for it in synthetic]),
        "nonsounds": embed_sounds(encoder, [x for _, x in generated]) if generated else None,
        "nonsound_folds": [kind_fold[k] for k, _ in generated],
    }


def _whole_and_takes(clips: list, *, takes: int, seed: int) -> list:
    """(clip, 4 s float32) pairs: each clip's centre 4 s and ``takes`` random takes of it."""
    from soundedit.soundscapes.realworld import CLIP_SAMPLES, real_takes

    whole = []
    for c in clips:
        start = max(0, (len(c.samples) - CLIP_SAMPLES) // 2)
        whole.append((c, c.samples[start : start + CLIP_SAMPLES]))
    return whole + real_takes(clips, variants=takes, seed=seed)


def embed_sounds(encoder, sounds: list, *, rate: int = 16_000) -> torch.Tensor:
    """Unit embeddings [N, D] of float sounds at ``rate`` through the encoder's front end."""
    from soundedit.audio.features import compute_features_batch
    from soundedit.train.evaluate import embed_features

    return embed_features(encoder, compute_features_batch(sounds, encoder.front_end, rate=rate))


__all__ = ["WEIGHTS_DIR", "cosine_lr", "degrade", "probe_errors", "train_probe"]
