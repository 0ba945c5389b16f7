"""Evaluation of an aligned audio encoder: zero-shot classification, retrieval, linear probe.

Zero-shot: each class name is put into prompt templates, CLIP embeds them, the mean (unit)
embedding is the class; a sound gets the class whose embedding is closest to its own. This is
how the papers' Table 1 reads ESC-50 and UrbanSound8K. The linear probe trains a logistic
regression (plain torch) on frozen audio embeddings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from soundedit.errors import ConfigError
from soundedit.train.data import TrainItem, compute_item_features

DEFAULT_TEMPLATES = ("{}", "the sound of {}", "a sound of {}", "a recording of {}")


@torch.no_grad()
def embed_features(
    encoder: nn.Module, features: torch.Tensor, *, batch: int = 64, device: Any = None
) -> torch.Tensor:
    """Unit-norm audio embeddings [N, D] of features [N, 1, H, W] (encoder in eval mode)."""
    device = device or next(encoder.parameters()).device
    was = encoder.training
    encoder.eval()
    try:
        parts = [
            F.normalize(encoder(features[i : i + batch].to(device)).float(), dim=-1).cpu()
            for i in range(0, features.shape[0], batch)
        ]
    finally:
        encoder.train(was)
    return torch.cat(parts)


@torch.no_grad()
def class_embeddings(
    clip: Any, labels: Sequence[str], templates: Sequence[str] = DEFAULT_TEMPLATES
) -> torch.Tensor:
    """Unit [C, D]: each label's mean CLIP text embedding over the prompt templates."""
    if not labels:
        raise ConfigError("zero-shot classification needs at least one label")
    texts = [t.format(label) for label in labels for t in templates]
    emb = clip.embed_text(texts).float().cpu().view(len(labels), len(templates), -1)
    return F.normalize(emb.mean(1), dim=-1)


def zero_shot_scores(
    audio: torch.Tensor, classes: torch.Tensor, *, scale: float = 100.0
) -> torch.Tensor:
    """Softmax scores [N, C] of unit audio embeddings [N, D] against class embeddings [C, D]."""
    return (scale * audio @ classes.T).softmax(dim=-1)


def zero_shot_classify(
    encoder: nn.Module,
    clip: Any,
    features: torch.Tensor,
    labels: Sequence[str],
    *,
    templates: Sequence[str] = DEFAULT_TEMPLATES,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(predicted label index [N], scores [N, C]) for features [N, 1, H, W]."""
    scores = zero_shot_scores(
        embed_features(encoder, features), class_embeddings(clip, labels, templates)
    )
    return scores.argmax(-1), scores


def items_features(encoder: nn.Module, items: Sequence[TrainItem], *, cache_dir=None):
    """Features [N, 1, H, W] of the readable items, those items, and the skipped rows."""
    features, skipped = compute_item_features(
        items, getattr(encoder, "front_end", None), cache_dir=cache_dir
    )
    kept = [i for i, f in enumerate(features) if f is not None]
    if not kept:
        raise ConfigError("no readable sounds to evaluate")
    return torch.stack([features[i] for i in kept]), [items[i] for i in kept], skipped


def zero_shot_accuracy(
    encoder: nn.Module,
    clip: Any,
    items: Sequence[TrainItem],
    labels: Sequence[str] | None = None,
    *,
    templates: Sequence[str] = DEFAULT_TEMPLATES,
) -> float:
    """Share of labelled items whose zero-shot prediction is their label."""
    features, items, _ = items_features(encoder, items)
    labels = list(labels) if labels else sorted({it.label for it in items if it.label})
    pred, _ = zero_shot_classify(encoder, clip, features, labels, templates=templates)
    truth = torch.tensor([labels.index(it.label) for it in items])
    return float((pred == truth).float().mean())


def audio_to_text_recall(
    encoder: nn.Module,
    features: torch.Tensor,
    captions: Sequence[str],
    clip: Any,
    *,
    ks: Sequence[int] = (1, 5),
    device: Any = None,
) -> dict[str, float]:
    """Audio->text retrieval among the distinct captions: {"r1": ..., "r5": ...}.

    A hit at k: the item's own caption is among the k captions closest to its audio
    (identical captions count as one, so labels work as captions).
    """
    distinct = sorted(set(captions))
    text = clip.embed_text(distinct).float().cpu()  # [T, D]
    audio = embed_features(encoder, features, device=device)
    ranks = (audio @ text.T).argsort(dim=1, descending=True)  # [N, T]
    index = {c: i for i, c in enumerate(distinct)}
    truth = torch.tensor([index[c] for c in captions])
    position = (ranks == truth[:, None]).float().argmax(dim=1)  # rank of the true caption
    return {f"r{k}": float((position < k).float().mean()) for k in ks}


def linear_probe(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    test_x: torch.Tensor,
    test_y: torch.Tensor,
    *,
    steps: int = 500,
    lr: float = 0.05,
    weight_decay: float = 1e-4,
    seed: int = 0,
) -> float:
    """Accuracy on (test_x, test_y) of a logistic regression trained on frozen embeddings."""
    torch.manual_seed(seed)
    n_classes = int(max(train_y.max(), test_y.max())) + 1
    head = nn.Linear(train_x.shape[1], n_classes)
    optimizer = torch.optim.Adam(head.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        loss = F.cross_entropy(head(train_x), train_y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return float((head(test_x).argmax(-1) == test_y).float().mean())


def evaluate_items(
    encoder: nn.Module,
    clip: Any,
    items: Sequence[TrainItem],
    *,
    templates: Sequence[str] = DEFAULT_TEMPLATES,
    probe_fraction: float = 0.2,
    seed: int = 0,
) -> dict[str, Any]:
    """Zero-shot accuracy (per class too) and linear-probe accuracy.

    The linear probe is cross-validated over the official folds when every item has one
    (ESC-50: 5, UrbanSound8K: 10, as in the papers); otherwise it uses a seeded hold-out of
    ``probe_fraction`` of the items.
    """
    features, items, skipped = items_features(encoder, items)
    if any(not it.label for it in items):
        raise ConfigError("evaluation needs a label on every item")
    labels = sorted({it.label for it in items})
    truth = torch.tensor([labels.index(it.label) for it in items])
    audio = embed_features(encoder, features)
    pred = zero_shot_scores(audio, class_embeddings(clip, labels, templates)).argmax(-1)
    per_class = {lab: float((pred[truth == c] == c).float().mean()) for c, lab in enumerate(labels)}
    splits = _probe_splits(items, probe_fraction, seed)
    scores = [
        linear_probe(audio[train], truth[train], audio[test], truth[test], seed=seed)
        for train, test in splits
        if len(train) and len(test)
    ]
    return {
        "items": len(items),
        "classes": len(labels),
        "skipped": len(skipped),
        "zero_shot_accuracy": float((pred == truth).float().mean()),
        "linear_probe_accuracy": sum(scores) / len(scores) if scores else float("nan"),
        "linear_probe_protocol": f"{len(splits)}-fold" if len(splits) > 1 else "hold-out",
        "per_class": per_class,
    }


def _probe_splits(items: Sequence[TrainItem], fraction: float, seed: int) -> list[tuple]:
    """(train, test) index tensors: one per official fold, or one seeded hold-out."""
    folds = [it.fold for it in items]
    if all(f is not None for f in folds) and len(set(folds)) > 1:
        fold_t = torch.tensor(folds)
        return [
            ((fold_t != f).nonzero().flatten(), (fold_t == f).nonzero().flatten())
            for f in sorted(set(folds))
        ]
    order = torch.randperm(len(items), generator=torch.Generator().manual_seed(seed))
    n_test = max(1, int(len(items) * fraction))
    return [(order[n_test:], order[:n_test])]


def format_report(report: dict[str, Any]) -> str:
    """A few human lines from :func:`evaluate_items`' report."""
    lines = [
        f"items {report['items']} ({report['skipped']} skipped), classes {report['classes']}",
        f"zero-shot accuracy {100 * report['zero_shot_accuracy']:.1f} %",
        f"linear probe accuracy {100 * report['linear_probe_accuracy']:.1f} % "
        f"({report['linear_probe_protocol']})",
    ]
    worst = sorted(report["per_class"].items(), key=lambda kv: kv[1])[:5]
    lines.append("weakest classes: " + ", ".join(f"{k} {100 * v:.0f} %" for k, v in worst))
    return "\n".join(lines)
