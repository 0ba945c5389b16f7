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

from soundedit.edit.report import Recognition
from soundedit.soundscapes.params import CLASSES
from soundedit.weights_io import load_weights, save_weights

KIND = "soundscapes_recogniser"
ACCEPT = 0.92  # share of out-of-fold real in-world scores the threshold accepts
SCALE = 10.0  # logits = SCALE * embedding @ weight + bias (keeps the L2 penalty well scaled)
L2 = 1e-3  # penalty on the regression weights


@dataclass(frozen=True)
class RecogniserConfig:
    events: tuple[str, ...] = CLASSES  # the world's events, in the order of the prompt rows
    embed_dim: int = 64  # embedding width


class Recogniser(nn.Module):
    """Unit audio embeddings [B, D] -> (closest event, calibrated known-score)."""

    def __init__(self, config: RecogniserConfig = RecogniserConfig()):
        super().__init__()
        self.config = config
        c, d = len(config.events), config.embed_dim
        self.register_buffer("prompts", torch.zeros(c, d))  # class prompt text embeddings
        self.register_buffer("weight", torch.zeros(d))  # logistic regression
        self.register_buffer("bias", torch.zeros(()))
        self.register_buffer("threshold", torch.tensor(0.5))

    def score(self, embedding: torch.Tensor) -> torch.Tensor:
        """Probability [B] that each sound is one the world knows."""
        e = F.normalize(embedding.float(), dim=-1)
        return torch.sigmoid(SCALE * e @ self.weight + self.bias)

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
) -> tuple[Recogniser, dict]:
    """Fit the regression on every fold and its threshold by cross-validation over the folds.

    Args:
        prompts: [C, D] CLIP text embeddings of the class prompts (in ``CLASSES`` order).
        inside: [N, D] embeddings of real in-world recordings, ``inside_folds`` their folds.
        outside: [M, D] embeddings of real recordings from outside the world, with their folds.
        synthetic: [S, D] embeddings of the world's own sounds (positives in every fit).

    Returns:
        The recogniser and the out-of-fold figures (AUROC, and the shares accepted / flagged at
        the threshold) on the fitting folds.
    """
    model = Recogniser(RecogniserConfig(embed_dim=prompts.shape[1]))
    model.prompts.copy_(F.normalize(prompts, dim=-1))
    inside_folds_t, outside_folds_t = torch.tensor(inside_folds), torch.tensor(outside_folds)
    folds = sorted(set(inside_folds) & set(outside_folds))
    if len(folds) < 2:
        raise ValueError(f"the recogniser's threshold needs at least 2 folds, got {folds}")
    oof_in, oof_out = torch.empty(len(inside)), torch.empty(len(outside))
    for fold in folds:
        keep_in, keep_out = inside_folds_t != fold, outside_folds_t != fold
        weight, bias = _fit(inside[keep_in], outside[keep_out], synthetic)
        oof_in[~keep_in] = _scores(inside[~keep_in], weight, bias)
        oof_out[~keep_out] = _scores(outside[~keep_out], weight, bias)
    threshold = float(torch.quantile(oof_in, 1 - ACCEPT))
    weight, bias = _fit(inside, outside, synthetic)
    model.weight.copy_(weight)
    model.bias.fill_(bias)
    model.threshold.fill_(threshold)
    figures = {
        "folds": folds,
        "oof_auroc": auroc(oof_in, oof_out),
        "oof_accepted": float((oof_in >= threshold).float().mean()),
        "oof_flagged": float((oof_out < threshold).float().mean()),
    }
    return model, figures


def _scores(x: torch.Tensor, weight: torch.Tensor, bias: float) -> torch.Tensor:
    return torch.sigmoid(SCALE * F.normalize(x, dim=-1) @ weight + bias)


def auroc(positive: torch.Tensor, negative: torch.Tensor) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    diff = positive.reshape(-1, 1) - negative.reshape(1, -1)
    return float((diff > 0).float().mean() + 0.5 * (diff == 0).float().mean())


def _fit(
    inside: torch.Tensor, outside: torch.Tensor, synthetic: torch.Tensor
) -> tuple[torch.Tensor, float]:
    """L2-regularised logistic regression by L-BFGS: in-world (real and synthetic each half the
    positive weight) against outside, the two sides weighted equally."""
    x = F.normalize(torch.cat([inside, synthetic, outside]), dim=-1)
    y = torch.cat([torch.ones(len(inside) + len(synthetic)), torch.zeros(len(outside))])
    sample_weight = torch.cat(
        [
            torch.full((len(inside),), 0.25 / len(inside)),
            torch.full((len(synthetic),), 0.25 / max(len(synthetic), 1)),
            torch.full((len(outside),), 0.5 / len(outside)),
        ]
    )
    if not len(synthetic):
        sample_weight[: len(inside)] *= 2
    w = torch.zeros(x.shape[1], requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=300, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        losses = F.binary_cross_entropy_with_logits(SCALE * x @ w + b, y, reduction="none")
        loss = (losses * sample_weight).sum() + L2 * w.square().sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    return w.detach(), float(b.detach())


def save_recogniser(model: Recogniser, path: str | Path, meta: dict) -> Path:
    """Write ``recogniser.safetensors`` + ``.json`` (kind ``soundscapes_recogniser``)."""
    tensors = {k: v.float() for k, v in model.state_dict().items()}
    return save_weights(path, tensors, kind=KIND, config=model.config, meta=meta)


def load_recogniser(path: str | Path) -> Recogniser:
    """Read a pair written by :func:`save_recogniser` (strict)."""
    from soundedit.config import from_dict

    tensors, record = load_weights(path, kind=KIND)
    config = from_dict(RecogniserConfig, record.get("config", {}), where=f"{path} config")
    model = Recogniser(config)
    model.load_state_dict(tensors, strict=True)
    return model.eval()
