"""Training data: items, manifests, the public dataset layouts, and cached features.

An item is one sound with what it is paired with (caption, label, image, group). Items come from
memory (the SoundScapes world builds them) or from :func:`load_items`, which reads a manifest
(CSV or JSONL) or one of the VGGSound, AudioSet, ESC-50 and UrbanSound8K layouts. Rows whose
files are missing are skipped and counted, never a crash; so are sounds that fail to decode when
their features are computed (once, before training, see :func:`compute_item_features`).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm

from soundedit.audio.features import compute_features
from soundedit.audio.io import load_sound
from soundedit.errors import ConfigError, SoundEditError

LAYOUTS = ("auto", "manifest", "vggsound", "audioset", "esc50", "urbansound8k")
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".m4a")


@dataclass(frozen=True)
class TrainItem:
    """One sound and what it is paired with."""

    audio: Any  # features Tensor [1, H, W], or a path / bytes / (rate, ndarray) / Sound
    text: str | None = None  # caption; when None the label is used
    label: str | None = None  # class name (weak-pair KL term, zero-shot evaluation)
    image: Any = None  # paired image: Tensor [3, H, W] in [-1, 1] or a path
    image_embedding: torch.Tensor | None = None  # [D] precomputed CLIP embedding of the image
    group: str | None = None  # video / scene id: weak pairs come from other groups
    fold: int | None = None  # official cross-validation fold (ESC-50, UrbanSound8K)
    negative: bool = False  # "none of these": a sound from outside the world (losses.negative)

    def caption(self, template: str = "{}") -> str | None:
        """The text the audio is aligned to: the caption, else the templated label."""
        if self.text:
            return self.text
        return template.format(self.label) if self.label else None

    def describe(self) -> str:
        """A short name for reports (the file name when there is one)."""
        if isinstance(self.audio, (str, Path)):
            return str(self.audio)
        return f"{self.label or self.text or 'item'} ({self.group or 'no group'})"


@dataclass
class ItemList:
    """Items read from a dataset, with the rows that were skipped and why."""

    items: list[TrainItem]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (row, reason)
    source: str = ""

    def report(self) -> str:
        """One line: how many items were kept and skipped (with the first few reasons)."""
        line = f"{self.source or 'dataset'}: {len(self.items)} items"
        if self.skipped:
            reasons = "; ".join(f"{row}: {why}" for row, why in self.skipped[:3])
            more = "" if len(self.skipped) <= 3 else f"; ... {len(self.skipped) - 3} more"
            line += f", {len(self.skipped)} skipped ({reasons}{more})"
        return line


# --- dataset layouts -----------------------------------------------------------------------------


def load_items(
    path: str | Path,
    *,
    layout: str = "auto",
    split: str | None = None,
    folds: Sequence[int] | None = None,
) -> ItemList:
    """Read a manifest file or a dataset folder into items.

    Args:
        path: a ``.csv`` / ``.jsonl`` manifest, or the root folder of a public dataset.
        layout: one of ``LAYOUTS``; "auto" recognises the layout from the files present.
        split: keep only this split (manifest column ``split``; VGGSound "train"/"test";
            AudioSet "balanced_train", "unbalanced_train" or "eval").
        folds: ESC-50 / UrbanSound8K folds to keep (all when None).

    Raises:
        ConfigError: unknown layout, or a folder whose layout cannot be recognised.
        FileNotFoundError: ``path`` does not exist.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"dataset {path} does not exist")
    if layout not in LAYOUTS:
        raise ConfigError(f"unknown dataset layout {layout!r}; accepted: {', '.join(LAYOUTS)}")
    if layout == "auto":
        layout = detect_layout(path)
    reader = {
        "manifest": lambda: _read_manifest(path, split),
        "vggsound": lambda: _read_vggsound(path, split),
        "audioset": lambda: _read_audioset(path, split),
        "esc50": lambda: _read_esc50(path, folds),
        "urbansound8k": lambda: _read_urbansound(path, folds),
    }[layout]
    result = reader()
    result.source = f"{path} ({layout})"
    return result


def detect_layout(path: Path) -> str:
    """The layout of a manifest file or dataset folder (see :data:`LAYOUTS`)."""
    if path.is_file():
        if path.suffix in (".csv", ".jsonl"):
            return "manifest"
        raise ConfigError(f"{path}: a manifest must be a .csv or .jsonl file")
    checks = (
        ("esc50", path / "meta" / "esc50.csv"),
        ("urbansound8k", path / "metadata" / "UrbanSound8K.csv"),
        ("vggsound", path / "vggsound.csv"),
        ("audioset", path / "class_labels_indices.csv"),
        ("manifest", path / "manifest.csv"),
        ("manifest", path / "manifest.jsonl"),
    )
    for name, marker in checks:
        if marker.is_file():
            return name
    raise ConfigError(
        f"{path}: not a recognised dataset folder; expected meta/esc50.csv (ESC-50), "
        "metadata/UrbanSound8K.csv (UrbanSound8K), vggsound.csv (VGGSound), "
        "class_labels_indices.csv (AudioSet) or manifest.csv / manifest.jsonl"
    )


def _make_item(root: Path, row: dict, skipped: list, where: str) -> TrainItem | None:
    """A TrainItem from a manifest row; None (and a skipped entry) when a file is missing."""
    audio = str(row.get("audio") or row.get("path") or row.get("file") or "").strip()
    if not audio:
        skipped.append((where, "no audio path"))
        return None
    audio_path = (root / audio).resolve() if not Path(audio).is_absolute() else Path(audio)
    if not audio_path.is_file():
        skipped.append((where, f"missing file {audio_path}"))
        return None
    images = row.get("image") or row.get("images") or []
    if isinstance(images, str):
        images = [s.strip() for s in images.replace("|", ";").split(";") if s.strip()]
    image = None
    for name in images:  # the first image that exists is the paired frame
        candidate = (root / name).resolve()
        if candidate.is_file():
            image = candidate
            break
    if images and image is None:
        skipped.append((where, f"missing image {images[0]}"))
        return None
    text = row.get("caption") or row.get("text") or None
    label = row.get("label") or None
    group = row.get("group") or row.get("video") or None
    return TrainItem(
        audio_path, text=text, label=label, image=image, group=None if group is None else str(group)
    )


def _read_manifest(path: Path, split: str | None) -> ItemList:
    if path.is_dir():
        path = (
            path / "manifest.csv" if (path / "manifest.csv").is_file() else path / "manifest.jsonl"
        )
    rows: list[dict] = []
    with path.open(encoding="utf-8", newline="") as f:
        if path.suffix == ".jsonl":
            for n, line in enumerate(f, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise ConfigError(f"{path}:{n}: not a JSON object: {e}") from e
        else:
            rows = list(csv.DictReader(f))
    if rows and not any(k in rows[0] for k in ("audio", "path", "file")):
        raise ConfigError(f"{path}: a manifest needs an 'audio' column; found {sorted(rows[0])}")
    items, skipped = [], []
    for n, row in enumerate(rows, 1):
        if split is not None and row.get("split") not in (None, "", split):
            continue
        item = _make_item(path.parent, row, skipped, f"{path.name} row {n}")
        if item is not None:
            items.append(item)
    return ItemList(items, skipped)


def find_audio(folder: Path, stems: Iterable[str]) -> Path | None:
    """The first existing ``folder/stem.<audio suffix>``."""
    for stem in stems:
        for suffix in AUDIO_SUFFIXES:
            candidate = folder / f"{stem}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def _clip_rows(
    root: Path, rows: Iterable[tuple[str, float, str, str | None]], skipped: list
) -> list:
    """Items for YouTube clips (id, start, label, caption): audio/<stem>.*, frames/<stem>.jpg."""
    items = []
    for ytid, start, label, caption in rows:
        stems = (
            f"{ytid}_{int(start):06d}",
            f"{ytid}_{int(start)}",
            f"{ytid}_{start:.3f}",
            f"Y{ytid}",
            ytid,
        )
        audio = find_audio(root / "audio", stems)
        if audio is None:
            skipped.append((f"{ytid} {start:g}", f"no audio file in {root / 'audio'}"))
            continue
        image = next(
            (
                root / "frames" / f"{audio.stem}{s}"
                for s in (".jpg", ".png")
                if (root / "frames" / f"{audio.stem}{s}").is_file()
            ),
            None,
        )
        items.append(TrainItem(audio, text=caption, label=label, image=image, group=ytid))
    return items


def _read_vggsound(root: Path, split: str | None) -> ItemList:
    """vggsound.csv rows: youtube id, start seconds, label, split (no header)."""
    rows, skipped = [], []
    with (root / "vggsound.csv").open(encoding="utf-8", newline="") as f:
        for fields in csv.reader(f):
            if len(fields) < 3 or not fields[1].strip().lstrip("-").isdigit():
                continue
            row_split = fields[3].strip() if len(fields) > 3 else None
            if split is None or row_split == split:
                rows.append((fields[0].strip(), float(fields[1]), fields[2].strip(), None))
    return ItemList(_clip_rows(root, rows, skipped), skipped)


def _read_audioset(root: Path, split: str | None) -> ItemList:
    """<split>_segments.csv (YTID, start, end, "mid,mid") + class_labels_indices.csv."""
    with (root / "class_labels_indices.csv").open(encoding="utf-8", newline="") as f:
        names = {r["mid"]: r["display_name"] for r in csv.DictReader(f)}
    segment_files = (
        [root / f"{split}_segments.csv"] if split else sorted(root.glob("*_segments.csv"))
    )
    rows, skipped = [], []
    for seg in segment_files:
        if not seg.is_file():
            raise ConfigError(
                f"{seg} not found; AudioSet splits: balanced_train, unbalanced_train, eval"
            )
        with seg.open(encoding="utf-8", newline="") as f:
            lines = (line for line in f if not line.startswith("#"))
            for fields in csv.reader(lines, skipinitialspace=True):
                if len(fields) < 4:
                    continue
                labels = [names.get(m.strip(), m.strip()) for m in fields[3].split(",")]
                rows.append((fields[0], float(fields[1]), labels[0], ", ".join(labels)))
    return ItemList(_clip_rows(root, rows, skipped), skipped)


def _read_esc50(root: Path, folds: Sequence[int] | None) -> ItemList:
    return _read_folds(
        root / "meta" / "esc50.csv",
        folds,
        audio=lambda row: root / "audio" / row["filename"],
        label="category",
        group="src_file",
    )


def _read_urbansound(root: Path, folds: Sequence[int] | None) -> ItemList:
    return _read_folds(
        root / "metadata" / "UrbanSound8K.csv",
        folds,
        audio=lambda row: root / "audio" / f"fold{row['fold']}" / row["slice_file_name"],
        label="class",
        group="fsID",
    )


def _read_folds(
    table: Path,
    folds: Sequence[int] | None,
    *,
    audio: Callable[[dict[str, str]], Path],
    label: str,
    group: str,
) -> ItemList:
    """Items of a folded classification set (ESC-50, UrbanSound8K) from its metadata csv."""
    items, skipped = [], []
    with table.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if folds is not None and int(row["fold"]) not in folds:
                continue
            path = audio(row)
            if not path.is_file():
                skipped.append((path.name, f"missing file {path}"))
                continue
            name = row[label].replace("_", " ")
            items.append(TrainItem(path, label=name, group=row.get(group), fold=int(row["fold"])))
    return ItemList(items, skipped)


# --- features ------------------------------------------------------------------------------------


def _cache_key(item: TrainItem, front_end: Any) -> str | None:
    if not isinstance(item.audio, (str, Path)):
        return None
    p = Path(item.audio)
    stat = p.stat()
    text = f"{p.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{front_end!r}"
    return hashlib.sha1(text.encode()).hexdigest()


def compute_item_features(
    items: Sequence[TrainItem],
    front_end: Any,
    *,
    cache_dir: str | Path | None = None,
    progress: bool = False,
    lazy: bool = False,
) -> tuple[list[torch.Tensor | Path | None], list[tuple[str, str]]]:
    """Features [1, H, W] for every item (None where the sound could not be read).

    Items that already hold a feature tensor are used as they are; others are loaded with
    ``soundedit.audio.load_sound`` and turned into features with ``front_end`` (a FrontEnd or
    its name), caching them under ``cache_dir`` (safetensors, keyed by path, size, mtime and
    front end) when given. With ``lazy`` (and a cache) a sound file's entry is the path of its
    cached features instead of the tensor, so datasets larger than memory can be trained on.
    Returns (features, skipped rows with reasons).
    """
    cache = Path(cache_dir) if cache_dir else None
    if cache:
        cache.mkdir(parents=True, exist_ok=True)
    features: list[torch.Tensor | Path | None] = []
    skipped: list[tuple[str, str]] = []
    for item in _progress(items, progress, "features"):
        if isinstance(item.audio, torch.Tensor):
            features.append(_check_features(item.audio))
            continue
        if front_end is None:
            raise ConfigError("items hold sounds, not features: the encoder needs a front end")
        key = _cache_key(item, front_end) if cache else None
        cached = cache / f"{key}.safetensors" if key else None
        if cached and cached.is_file():
            features.append(cached if lazy else load_file(str(cached))["features"])
            continue
        try:
            value = _features_of(item.audio, front_end)
        except (SoundEditError, OSError, RuntimeError, ValueError) as e:
            skipped.append((item.describe(), f"unreadable: {e}"))
            features.append(None)
            continue
        if cached:  # write then rename: concurrent readers never see half a file
            partial = cached.with_name(f".{cached.name}.{os.getpid()}.part")
            save_file({"features": value.contiguous()}, str(partial))
            os.replace(partial, cached)
        features.append(cached if cached and lazy else value)
    return features, skipped


def _features_of(source: Any, front_end: Any) -> torch.Tensor:
    return compute_features(load_sound(source), front_end).float()


def _check_features(value: torch.Tensor) -> torch.Tensor:
    if value.dim() == 2:
        value = value[None]
    if value.dim() != 3 or value.shape[0] != 1:
        raise ConfigError(f"item features must have shape [1, H, W], got {tuple(value.shape)}")
    return value.float()


def _progress(iterable, enabled: bool, desc: str):
    if not enabled:
        return iterable
    return tqdm(iterable, desc=desc, leave=False)


def load_image(path: str | Path) -> torch.Tensor:
    """An image file as a Tensor [3, H, W] in [-1, 1]."""
    with Image.open(path) as im:
        array = np.asarray(im.convert("RGB"), dtype=np.float32)
    return torch.from_numpy(array).permute(2, 0, 1) / 127.5 - 1.0
