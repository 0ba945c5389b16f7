"""Measure the SoundScapes world on real recordings (``soundscapes eval --real DIR``).

On the clips of ``folds`` (default 4, the fold the models never trained on) of a folder in the
ESC-50 layout, with the category map of ``esc50.toml``:

- zero-shot recognition of the in-world clips (closest class prompt), per class, with the
  confusion matrix;
- the open-set score: AUROC of in-world against outside clips, and the shares accepted and
  flagged at the recogniser's threshold;
- real-sound edits: a clip of event X raises probe[X] by >= 0.3 (each clip from ``seeds``
  held-out source seeds);
- a gain sweep (-18..0 dB) of each real rain clip against probe[rain] (Spearman, mean);
- the non-sound rate: generated non-sounds (nonsounds.py: tones, hum, clicks, speech ...)
  that the world still calls known, per kind, after the signal check and by the recogniser
  alone; the kinds the recogniser was never fitted on are also reported on their own;
- the microphone path (evaluate_mic.py): 14 clips (2 per event) played into a browser
  microphone and heard as the page hears them, through each named capture chain.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from soundedit.audio.signal import check_signal
from soundedit.bundle import load_bundle
from soundedit.errors import ConfigError
from soundedit.soundscapes.captions import CLASS_PROMPTS
from soundedit.soundscapes.evaluate import HELD_OUT, edit_with, mapper_line, spearman
from soundedit.soundscapes.evaluate_mic import format_microphone, microphone_figures
from soundedit.soundscapes.nonsounds import HELD_OUT_KINDS, KINDS, make_nonsounds
from soundedit.soundscapes.params import CLASSES
from soundedit.soundscapes.realworld import RATE, RealClip, read_clips
from soundedit.soundscapes.recognise import auroc
from soundedit.soundscapes.training.recogniser import embed_sounds

DRAWN = ("rain", "sea", "fire", "lightning", "night")  # events the generator draws today
GAINS = (-18.0, -12.0, -6.0, 0.0)
REAL_TARGETS = {
    "zero_shot": ("real in-world zero-shot accuracy (7 events)", ">= 0.85"),
    "auroc": ("open set: AUROC in-world vs outside", ">= 0.93"),
    "accepted": ("open set: in-world clips accepted at the threshold", ">= 0.90"),
    "flagged": ("open set: outside clips flagged at the threshold", ">= 0.85"),
    "edit_success_min": ("real-sound edit success, worst of " + ", ".join(DRAWN), ">= 0.80"),
    "gain_spearman": ("real rain gain sweep -18..0 dB vs probe[rain] (Spearman)", ">= 0.8"),
    "nonsound_known": ("generated non-sounds accepted as known, all kinds", "0"),
    "nonsound_known_held_out": ("… of the kinds the recogniser never saw", "0"),
    "nonsound_recogniser_held_out": ("… of those, by the recogniser alone (no signal check)", "0"),
    "microphone_heard": (
        "microphone path: the 14 clips heard right through a room",
        ">= 0.857 (12 of 14)",
    ),
}
MICROPHONE = ("room", "loud-floor")  # the capture chains measured (evaluate_mic.CAPTURES)
NONSOUND_SEED = 90_000  # the recogniser's negatives are drawn from other seeds
Log = Callable[[str], None]


def evaluate_real(
    folder: str | Path,
    *,
    folds: tuple[int, ...] = (4,),
    seeds: int = 2,
    edits: bool = True,
    nonsounds: int = 20,
    microphone: tuple[str, ...] = MICROPHONE,
    log: Log = print,
    bundle=None,
) -> dict:
    """Every real-audio figure on ``folds`` of ``folder`` (see the module doc); ``microphone``
    names the capture chains of the microphone path (none: skipped)."""
    if nonsounds < 0:
        raise ConfigError(f"non-sounds per kind must be 0 (skip) or more, got {nonsounds}")
    bundle = bundle or load_bundle("soundscapes")
    clips = read_clips(folder, folds=folds)
    inside = [c for c in clips if c.event is not None]
    outside = [c for c in clips if c.event is None]
    log(f"real: {len(inside)} in-world and {len(outside)} outside clips, folds {folds}")
    results = {"folds": list(folds), "clips_inside": len(inside), "clips_outside": len(outside)}
    results.update(recognition_figures(bundle, inside, outside))
    log(f"zero-shot {results['zero_shot']:.3f}  AUROC {results.get('auroc', float('nan')):.3f}")
    if nonsounds and bundle.recognise is not None:
        results.update(nonsound_figures(bundle, per_kind=nonsounds))
        log(f"non-sounds known {results['nonsound_known']:.3f}")
    if microphone and bundle.recognise is not None:
        results["microphone"] = {
            c: microphone_figures(bundle, inside, capture=c) for c in microphone
        }
        first = results["microphone"][microphone[0]]
        results["microphone_heard"] = first["heard_right"] / first["clips"]
        log(format_microphone(first))
    if edits:
        # The optimisation's rows run cold: its own figures, with or without a mapper.
        results.update(edit_figures(bundle, inside, seeds=seeds, log=log, warm_start=False))
        if bundle.mapper is not None:
            instant = edit_figures(bundle, inside, seeds=seeds, log=_instant(log), instant=True)
            results["mapper"] = instant
    return results


def _instant(log: Log) -> Log:
    return lambda line: log(f"instant {line}")


def embed_clips(bundle, clips: list[RealClip]) -> torch.Tensor:
    """Unit embeddings [N, D] of whole clips (the front end reads their centre 4 s)."""
    return embed_sounds(bundle.audio_encoder, [c.samples for c in clips], rate=RATE)


@torch.no_grad()
def recognition_figures(bundle, inside: list[RealClip], outside: list[RealClip]) -> dict:
    """Zero-shot accuracy (overall, per class, confusion) and the open-set figures."""
    prompts = bundle.clip.embed_text(list(CLASS_PROMPTS.values())).float()
    emb_in = embed_clips(bundle, inside)
    predicted = [CLASSES[i] for i in (emb_in @ prompts.T).argmax(dim=1).tolist()]
    events = sorted({c.event for c in inside}, key=CLASSES.index)
    confusion = {e: {p: 0 for p in CLASSES} for e in events}
    for clip, guess in zip(inside, predicted, strict=True):
        confusion[clip.event][guess] += 1
    per_class = {e: confusion[e][e] / sum(confusion[e].values()) for e in events}
    out = {
        "zero_shot": sum(c.event == p for c, p in zip(inside, predicted, strict=True))
        / len(inside),
        "zero_shot_per_class": per_class,
        "confusion": confusion,
    }
    if bundle.recognise is not None and outside:
        score_in = bundle.recognise.score(emb_in)
        score_out = bundle.recognise.score(embed_clips(bundle, outside))
        threshold = float(bundle.recognise.threshold)
        out.update(
            auroc=auroc(score_in, score_out),
            accepted=float((score_in >= threshold).float().mean()),
            flagged=float((score_out < threshold).float().mean()),
            threshold=threshold,
            flagged_by_category=_flagged_by_category(outside, score_out, threshold),
        )
    return out


@torch.no_grad()
def nonsound_figures(bundle, *, per_kind: int, seed: int = NONSOUND_SEED) -> dict:
    """Shares of generated non-sounds the world calls known, per kind (nonsounds.py).

    ``known``: after the signal check (what an edit reports); ``recogniser``: by the
    recogniser's score alone; ``refused``: stopped by the signal check.
    """
    signals = make_nonsounds(KINDS, per_kind=per_kind, seed=seed)
    refused = torch.tensor([check_signal(x, RATE) is not None for _, x in signals])
    scores = bundle.recognise.score(embed_sounds(bundle.audio_encoder, [x for _, x in signals]))
    by_model = scores >= float(bundle.recognise.threshold)
    known = by_model & ~refused
    kinds = [k for k, _ in signals]
    by_kind = {}
    for kind in dict.fromkeys(kinds):
        rows = torch.tensor([k == kind for k in kinds])
        by_kind[kind] = {
            "known": float(known[rows].float().mean()),
            "recogniser": float(by_model[rows].float().mean()),
            "refused": float(refused[rows].float().mean()),
            "held_out": kind in HELD_OUT_KINDS,
        }
    held = torch.tensor([k in HELD_OUT_KINDS for k in kinds])
    return {
        "nonsound_known": float(known.float().mean()),
        "nonsound_known_held_out": float(known[held].float().mean()),
        "nonsound_recogniser_held_out": float(by_model[held].float().mean()),
        "nonsound_by_kind": by_kind,
        "nonsound_per_kind": per_kind,
    }


def _flagged_by_category(clips: list[RealClip], scores: torch.Tensor, threshold: float) -> dict:
    by: dict[str, list[bool]] = {}
    for clip, score in zip(clips, scores.tolist(), strict=True):
        by.setdefault(clip.category, []).append(score < threshold)
    return {k: sum(v) / len(v) for k, v in sorted(by.items())}


def edit_figures(bundle, inside: list[RealClip], *, seeds: int, log: Log = print, **fields) -> dict:
    """Real-sound edit success per event and the rain gain sweep (``fields``: more request
    fields of every edit, e.g. ``instant=True``)."""
    success: dict[str, float] = {}
    seconds: list[float] = []
    for event in [e for e in CLASSES if any(c.event == e for c in inside)]:
        hits, total = 0, 0
        for k, clip in enumerate(c for c in inside if c.event == event):
            for s in range(seeds):
                seed = HELD_OUT + 10 * (k * seeds + s)
                result = edit_with(bundle, audio=(RATE, clip.samples), seed=seed, **fields)
                before, after = result.report.probe_source, result.report.probe_edited
                hits += after[event] - before[event] >= 0.3
                total += 1
                seconds.append(result.report.seconds)
        success[event] = hits / total
        log(f"real edit {event}: {success[event]:.2f} ({total} edits)")
    rank_correlations = []
    for k, clip in enumerate(c for c in inside if c.event == "rain"):
        rains = [
            edit_with(
                bundle, audio=(RATE, clip.samples), gain_db=g, seed=HELD_OUT + 10 * k, **fields
            ).report.probe_edited["rain"]
            for g in GAINS
        ]
        rank_correlations.append(spearman(list(GAINS), rains))
    drawn = [success[e] for e in DRAWN if e in success]
    return {
        "edit_success": success,
        "edit_success_min": min(drawn) if drawn else None,
        "gain_spearman": float(np.mean(rank_correlations)) if rank_correlations else None,
        "seconds_per_edit": statistics.median(seconds) if seconds else None,
        "seeds": seeds,
    }


def format_real(results: dict) -> str:
    """The real-audio targets table (Markdown), per-class figures and the confusion matrix."""
    lines = ["| what | target | measured |", "|---|---|---|"]
    for key, (what, target) in REAL_TARGETS.items():
        value = results.get(key)
        shown = "n/a" if value is None else f"{value:.3f}"
        lines.append(f"| {what} | {target} | {shown} |")
    lines.append(
        "\nzero-shot per class: "
        + ", ".join(f"{k} {v:.2f}" for k, v in results["zero_shot_per_class"].items())
    )
    if "edit_success" in results:
        lines.append(
            "edit success per event: "
            + ", ".join(f"{k} {v:.2f}" for k, v in results["edit_success"].items())
        )
    if "mapper" in results:
        lines.append(mapper_line(results["edit_success"], results["mapper"]))
    if "flagged_by_category" in results:
        worst = sorted(results["flagged_by_category"].items(), key=lambda kv: kv[1])[:6]
        lines.append(
            "least flagged outside categories: " + ", ".join(f"{k} {v:.2f}" for k, v in worst)
        )
    if "nonsound_by_kind" in results:
        lines.append(
            "non-sounds known (recogniser alone), per kind; * never fitted on: "
            + ", ".join(
                f"{k}{'*' if v['held_out'] else ''} {v['known']:.2f} ({v['recogniser']:.2f})"
                for k, v in results["nonsound_by_kind"].items()
            )
        )
    for figures in results.get("microphone", {}).values():
        lines.append(format_microphone(figures))
    lines += ["", "confusion (rows: true event, columns: predicted)", "", _confusion_table(results)]
    return "\n".join(lines)


def _confusion_table(results: dict) -> str:
    rows = [
        "| true \\ predicted | " + " | ".join(CLASSES) + " |",
        "|---" * (len(CLASSES) + 1) + "|",
    ]
    for event, counts in results["confusion"].items():
        rows.append(f"| {event} | " + " | ".join(str(counts[p]) for p in CLASSES) + " |")
    return "\n".join(rows)


__all__ = ["evaluate_real", "format_real", "auroc"]
