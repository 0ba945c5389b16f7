"""Does the world know this sound? The open-set recogniser of the SoundScapes world.

The audio encoder maps *any* sound somewhere in the tiny CLIP space, and the nearest class prompt
is always some event: a dog becomes weather. The recogniser keeps the closest prompt as the
sound's event and adds a calibrated probability that the world knows the sound at all: a
class-balanced logistic regression on the unit embedding, fitted with real in-world recordings
and the world's own sounds as positives and real recordings from outside the world as negatives.

Similarities to the prompts alone do not separate the two (an engine lands as close to "strong
wind" as real wind does: AUROC 0.52 on held-out clips); the whole embedding does. The threshold
is set by cross-validation over the fitting folds: each fold is scored by a regression fitted
on the others, and the threshold accepts :data:`ACCEPT` of those out-of-fold in-world scores, so
it is calibrated on clips the regression did not see, never on the held-out fold.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from soundedit.config import from_dict
from soundedit.edit.report import Recognition
from soundedit.soundscapes.params import CLASSES
from soundedit.weights_io import load_weights, save_weights

KIND = "soundscapes_recogniser"
ACCEPT = 0.92  # share of out-of-fold real in-world scores the threshold accepts
SCALE = 10.0  # logits = SCALE * embedding @ weight + bias (keeps the L2 penalty well scaled)
L2 = 1e-3  # penalty on the regression weights
NONSOUND_WEIGHT = 0.15  # share of the fit's weight on generated non-sounds (of the 0.5 negative)
MLP_STEPS = 600  # full-batch Adam steps of a fit with a hidden layer
MLP_LR = 1e-2
MLP_DECAY = 1e-4  # Adam weight decay of a fit with a hidden layer
INPUT_SCALE = 3.0  # the hidden layer reads INPUT_SCALE * unit embedding


@dataclass(frozen=True)
class RecogniserConfig:
    events: tuple[str, ...] = CLASSES  # the world's events, in the order of the prompt rows
    embed_dim: int = 64  # embedding width
    hidden: int = 0  # width of the score's ReLU layer; 0: a logistic regression on the embedding


class Recogniser(nn.Module):
    """Unit audio embeddings [B, D] -> (closest event, calibrated known-score)."""

    def __init__(self, config: RecogniserConfig = RecogniserConfig()):
        super().__init__()
        self.config = config
        c, d = len(config.events), config.embed_dim
        self.register_buffer("prompts", torch.zeros(c, d))  # class prompt text embeddings
        if config.hidden:  # features = relu(e @ hidden_weight.T + hidden_bias) [B, H]
            self.register_buffer("hidden_weight", torch.zeros(config.hidden, d))
            self.register_buffer("hidden_bias", torch.zeros(config.hidden))
        self.register_buffer("weight", torch.zeros(config.hidden or d))  # logistic regression
        self.register_buffer("bias", torch.zeros(()))
        self.register_buffer("threshold", torch.tensor(0.5))

    def score(self, embedding: torch.Tensor) -> torch.Tensor:
        """Probability [B] that each sound is one the world knows."""
        return score_with(dict(self.named_buffers()), embedding)

    def events_of(self, embedding: torch.Tensor) -> list[str]:
        """The closest event of each embedding [B, D] (zero-shot by the class prompts)."""
        e = F.normalize(embedding.float(), dim=-1)
        return [self.config.events[i] for i in (e @ self.prompts.T).argmax(dim=1).tolist()]

    @torch.no_grad()
    def forward(self, embedding: torch.Tensor) -> Recognition:
        """The recognition of one sound's embedding [1, D] or [D]."""
        embedding = embedding.reshape(1, -1).to(self.prompts.device)
        score = float(self.score(embedding)[0])
        threshold = float(self.threshold)
        event = self.events_of(embedding)[0]
        return Recognition(event=event, score=score, threshold=threshold, known=score >= threshold)


def fit_recogniser(
    prompts: torch.Tensor,
    inside: torch.Tensor,
    inside_folds: list[int],
    outside: torch.Tensor,
    outside_folds: list[int],
    synthetic: torch.Tensor,
    nonsounds: torch.Tensor | None = None,
    nonsound_folds: list[int] | None = None,
    *,
    hidden: int = 0,
    seed: int = 0,
) -> tuple[Recogniser, dict]:
    """Fit the score on every fold and its threshold by cross-validation over the folds.

    Args:
        prompts: [C, D] CLIP text embeddings of the class prompts (in ``CLASSES`` order).
        inside: [N, D] embeddings of real in-world recordings, ``inside_folds`` their folds.
        outside: [M, D] embeddings of real recordings from outside the world, with their folds.
        synthetic: [S, D] embeddings of the world's own sounds (positives in every fit).
        nonsounds: [G, D] embeddings of generated non-sounds (negatives, nonsounds.py), with
            ``nonsound_folds``: give each *kind* one fold, so that every out-of-fold score of a
            non-sound comes from a fit that never saw its kind.
        hidden: width of a ReLU layer under the regression (0: a logistic regression on the
            embedding, fitted by L-BFGS; else a one-hidden-layer net fitted by Adam).
        seed: the hidden layer's initialisation.

    Returns:
        The recogniser and the out-of-fold figures (AUROC, and the shares accepted / flagged at
        the threshold; with non-sounds, the share of them accepted) on the fitting folds.
    """
    model = Recogniser(RecogniserConfig(embed_dim=prompts.shape[1], hidden=hidden))
    model.prompts.copy_(F.normalize(prompts, dim=-1))
    if nonsounds is None:
        nonsounds, nonsound_folds = torch.zeros(0, prompts.shape[1]), []
    sets = [(inside, inside_folds), (outside, outside_folds), (nonsounds, nonsound_folds)]
    folds = sorted(set(inside_folds) & set(outside_folds))
    if len(folds) < 2:
        raise ValueError(f"the recogniser's threshold needs at least 2 folds, got {folds}")
    oof = [torch.empty(len(x)) for x, _ in sets]
    for fold in folds:
        keep = [torch.tensor(f, dtype=torch.long) != fold for _, f in sets]
        kept = (x[k] for (x, _), k in zip(sets, keep, strict=True))
        params = _fit(*kept, synthetic, hidden=hidden, seed=seed)
        for scores, (x, _), k in zip(oof, sets, keep, strict=True):
            scores[~k] = score_with(params, x[~k])
    oof_in, oof_out, oof_non = oof
    threshold = float(torch.quantile(oof_in, 1 - ACCEPT))
    for name, value in _fit(
        inside, outside, nonsounds, synthetic, hidden=hidden, seed=seed
    ).items():
        getattr(model, name).copy_(value)
    model.threshold.fill_(threshold)
    return model, {"folds": folds, **_oof_figures(oof_in, oof_out, oof_non, threshold)}


def _oof_figures(inside, outside, nonsounds, threshold: float) -> dict[str, float]:
    figures = {
        "oof_auroc": auroc(inside, outside),
        "oof_accepted": float((inside >= threshold).float().mean()),
        "oof_flagged": float((outside < threshold).float().mean()),
    }
    if len(nonsounds):
        figures["oof_nonsounds_accepted"] = float((nonsounds >= threshold).float().mean())
    return figures


def score_with(params: dict[str, torch.Tensor], embedding: torch.Tensor) -> torch.Tensor:
    """The known-probability [B] of embeddings [B, D] under ``params`` (the recogniser's
    buffers ``weight``, ``bias`` and, with a hidden layer, ``hidden_weight``, ``hidden_bias``)."""
    e = F.normalize(embedding.float(), dim=-1)
    if "hidden_weight" in params:
        e = torch.relu(e @ params["hidden_weight"].T + params["hidden_bias"])  # [B, H]
    return torch.sigmoid(SCALE * e @ params["weight"] + params["bias"])


def auroc(positive: torch.Tensor, negative: torch.Tensor) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    diff = positive.reshape(-1, 1) - negative.reshape(1, -1)
    return float((diff > 0).float().mean() + 0.5 * (diff == 0).float().mean())


def _fit(
    inside: torch.Tensor,
    outside: torch.Tensor,
    nonsounds: torch.Tensor,
    synthetic: torch.Tensor,
    *,
    hidden: int,
    seed: int,
) -> dict[str, torch.Tensor]:
    """Class-balanced logistic fit: in-world (real and synthetic each half the positive weight)
    against outside (real outside clips, and generated non-sounds with :data:`NONSOUND_WEIGHT`
    of the whole when there are any), the two sides weighted equally."""
    groups = [(inside, 1.0, 0.25), (synthetic, 1.0, 0.25)]
    groups += [(outside, 0.0, 0.5 - NONSOUND_WEIGHT), (nonsounds, 0.0, NONSOUND_WEIGHT)]
    if not len(synthetic):
        groups[0] = (inside, 1.0, 0.5)
    if not len(nonsounds):
        groups[2] = (outside, 0.0, 0.5)
    groups = [g for g in groups if len(g[0])]
    x = F.normalize(torch.cat([g for g, _, _ in groups]), dim=-1)
    y = torch.cat([torch.full((len(g),), label) for g, label, _ in groups])
    sample_weight = torch.cat([torch.full((len(g),), share / len(g)) for g, _, share in groups])
    with torch.enable_grad():
        if hidden:
            return _fit_hidden(x, y, sample_weight, hidden=hidden, seed=seed)
        return _fit_linear(x, y, sample_weight)


def _fit_linear(x: torch.Tensor, y: torch.Tensor, sample_weight: torch.Tensor) -> dict:
    """L2-regularised logistic regression by L-BFGS."""
    w = torch.zeros(x.shape[1], requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=300, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        losses = F.binary_cross_entropy_with_logits(SCALE * x @ w + b, y, reduction="none")
        loss = (losses * sample_weight).sum() + L2 * w.square().sum()
        loss.backward()
        return loss

    opt.step(closure)
    return {"weight": w.detach(), "bias": b.detach()}


def _fit_hidden(
    x: torch.Tensor, y: torch.Tensor, sample_weight: torch.Tensor, *, hidden: int, seed: int
) -> dict:
    """A one-hidden-layer ReLU net on INPUT_SCALE * x by full-batch Adam (nn.Linear's
    initialisation, drawn from ``seed``), returned as the recogniser's buffers."""
    g = torch.Generator().manual_seed(seed)
    d = x.shape[1]

    def uniform(*shape: int, fan_in: int) -> torch.Tensor:
        return ((torch.rand(shape, generator=g) * 2 - 1) * fan_in**-0.5).requires_grad_()

    w1, b1 = uniform(hidden, d, fan_in=d), uniform(hidden, fan_in=d)
    w2, b2 = uniform(hidden, fan_in=hidden), uniform(fan_in=hidden)
    opt = torch.optim.Adam([w1, b1, w2, b2], lr=MLP_LR, weight_decay=MLP_DECAY)
    for _ in range(MLP_STEPS):
        opt.zero_grad()
        logits = torch.relu(INPUT_SCALE * x @ w1.T + b1) @ w2 + b2
        losses = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
        (losses * sample_weight).sum().backward()
        opt.step()
    buffers = {"hidden_weight": INPUT_SCALE * w1, "hidden_bias": b1}
    buffers.update(weight=w2 / SCALE, bias=b2)  # score_with multiplies by SCALE
    return {name: t.detach() for name, t in buffers.items()}


def save_recogniser(model: Recogniser, path: str | Path, meta: dict) -> Path:
    """Write ``recogniser.safetensors`` + ``.json`` (kind ``soundscapes_recogniser``)."""
    tensors = {k: v.float() for k, v in model.state_dict().items()}
    return save_weights(path, tensors, kind=KIND, config=model.config, meta=meta)


def load_recogniser(path: str | Path) -> Recogniser:
    """Read a pair written by :func:`save_recogniser` (strict)."""
    tensors, record = load_weights(path, kind=KIND)
    config = from_dict(RecogniserConfig, record.get("config", {}), where=f"{path} config")
    model = Recogniser(config)
    model.load_state_dict(tensors, strict=True)
    return model.eval()
