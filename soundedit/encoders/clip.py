"""The CLIP bridge: one small class around an open_clip model and its tokenizer.

Three ways in, all through open_clip's own factory so the state-dict layout is open_clip's:

- :meth:`ClipBridge.from_pretrained` — a built-in architecture (``"ViT-B-32-quickgelu"``) with a
  weights file, or a pretrained tag (``"openai"``) that is looked up in ``weights/registry.toml``
  and resolved by :mod:`soundedit.hub` (offline: the local file; never open_clip's own download);
- :meth:`ClipBridge.from_config` — a custom architecture given as open_clip model-config data
  (``embed_dim``, ``vision_cfg``, ``text_cfg``), e.g. the tiny SoundScapes CLIP; the model is
  built from the config by open_clip's own classes (``CLIP`` / ``CustomTextCLIP``,
  ``load_checkpoint``, ``SimpleTokenizer``), nothing is written to disk or registered;
- :meth:`ClipBridge.from_file` — our ``.safetensors`` + ``.json`` pair (kind ``"open_clip"``)
  or an open_clip checkpoint file.

Images enter as generator output in [-1, 1]; the bridge maps them to [0, 1], resizes with an
antialiased bilinear filter to the model's input size, normalises with the model's own mean/std
(its preprocess config) and returns unit-norm embeddings, differentiably.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from soundedit import hub
from soundedit.errors import CheckpointError, ConfigError
from soundedit.weights_io import load_record, weight_paths

# Kinds of our safetensors+json pair that hold an open_clip model ("clip" is accepted too).
CLIP_KINDS = ("open_clip", "clip")
DEFAULT_ARCH = "ViT-B-32-quickgelu"
_REQUIRED = ("embed_dim", "vision_cfg", "text_cfg")


def _open_clip():
    """The open_clip package, imported on first use: importing it takes seconds (it brings timm
    and torchvision), and neither ``import soundedit`` nor ``soundedit --help`` needs it."""
    import open_clip

    return open_clip


class ClipBridge(nn.Module):
    """A frozen open_clip model with [-1, 1] image and text embedding methods.

    Args:
        model: an open_clip ``CLIP`` (or ``CustomTextCLIP``) module.
        tokenizer: the matching open_clip tokenizer (callable: list[str] -> LongTensor [N, T]).
        name: the open_clip architecture name (for messages).
    """

    def __init__(self, model: nn.Module, tokenizer: Any, *, name: str = ""):
        super().__init__()
        open_clip = _open_clip()
        self.model = model.eval().requires_grad_(False)
        _sequence_first(getattr(model.visual, "transformer", None))
        self.tokenizer = tokenizer
        self.name = name
        cfg = open_clip.get_model_preprocess_cfg(model)
        size = cfg.get("size", getattr(model.visual, "image_size", 224))
        self._size = tuple(size) if isinstance(size, (tuple, list)) else (int(size), int(size))
        mean = torch.tensor(cfg.get("mean", open_clip.OPENAI_DATASET_MEAN), dtype=torch.float32)
        std = torch.tensor(cfg.get("std", open_clip.OPENAI_DATASET_STD), dtype=torch.float32)
        self.register_buffer("mean", mean.view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", std.view(1, 3, 1, 1), persistent=False)

    # ---- construction ------------------------------------------------------------------------

    @classmethod
    def from_pretrained(
        cls, name: str = DEFAULT_ARCH, pretrained: str | Path = "openai", *, device="cpu"
    ) -> ClipBridge:
        """A built-in open_clip architecture with weights from a file or a registry tag.

        Args:
            name: open_clip architecture, e.g. ``"ViT-B-32-quickgelu"``.
            pretrained: a checkpoint path, or a tag such as ``"openai"`` that names a
                ``kind = "clip"`` entry of ``weights/registry.toml`` (resolved by the hub).

        Raises:
            ConfigError: unknown architecture or tag.
            WeightsNotFoundError: the weights file is not on this machine.
            CheckpointError: the file does not fit the architecture.
        """
        open_clip = _open_clip()
        if name not in open_clip.list_models():
            raise ConfigError(
                f"unknown open_clip architecture {name!r}; valid names include "
                f"{', '.join(m for m in open_clip.list_models() if m.startswith('ViT-B'))} ..."
            )
        path = Path(pretrained)
        if not path.is_file():
            path = _resolve_tag(name, str(pretrained))
        return cls._create(name, path, device=device)

    @classmethod
    def from_config(
        cls,
        config: dict | str | Path,
        weights_path: str | Path | None = None,
        *,
        device="cpu",
    ) -> ClipBridge:
        """A custom open_clip architecture from model-config data, optionally with weights.

        Args:
            config: a dict or a JSON file holding open_clip model-config data (``embed_dim``,
                ``vision_cfg``, ``text_cfg``; optionally wrapped as ``{"model_cfg": ...,
                "preprocess_cfg": ...}`` like open_clip's ``open_clip_config.json``), or one of
                our weights records (``{"kind": "open_clip", "config": ...}``; its sibling
                ``.safetensors`` is then the default ``weights_path``).
            weights_path: an open_clip state dict (``.safetensors``, fp16 allowed, or a torch
                file). None = random initialisation (seed torch first).

        Raises:
            ConfigError: the config is not open_clip model-config data.
            CheckpointError: the weights do not fit the config.
        """
        model_cfg, preprocess_cfg, default_weights = _read_config(config)
        weights = weights_path if weights_path is not None else default_weights
        if weights is not None and not Path(weights).is_file():
            raise CheckpointError(f"CLIP weights {weights} do not exist")
        model, tokenizer = _build_from_config(model_cfg, weights, preprocess_cfg)
        return cls(model.to(device), tokenizer, name=_config_name(model_cfg))

    @classmethod
    def from_file(cls, path: str | Path, *, arch: str = DEFAULT_ARCH, device="cpu") -> ClipBridge:
        """Our safetensors+json pair (kind ``"open_clip"``), an open_clip checkpoint of ``arch``,
        or the name of a ``kind = "clip"`` registry entry (resolved by :mod:`soundedit.hub`).

        Raises:
            FileNotFoundError / CheckpointError: missing or unusable file.
        """
        tensor_path, json_path = weight_paths(path)
        if json_path.is_file() and tensor_path.is_file():
            record = load_record(tensor_path)  # open_clip reads the tensors itself
            if record.get("kind") not in CLIP_KINDS:
                raise CheckpointError(
                    f"{json_path} holds a {record.get('kind')!r} model; expected {CLIP_KINDS}"
                )
            return cls.from_config(record["config"], tensor_path, device=device)
        path = Path(path)
        if not path.is_file():
            return cls._from_registry(str(path), device=device)
        return cls._create(arch, path, device=device)

    @classmethod
    def _from_registry(cls, name: str, *, device="cpu") -> ClipBridge:
        registry = hub.load_registry()
        entry = registry.get(name)
        if entry is None or entry.kind != "clip":
            clips = sorted(n for n, e in registry.items() if e.kind == "clip")
            raise CheckpointError(
                f"CLIP weights {name} are neither a file nor a CLIP entry of the registry "
                f"({', '.join(clips) or 'none'})"
            )
        arch = (entry.defaults or {}).get("arch", DEFAULT_ARCH)
        return cls._create(arch, hub.resolve(name), device=device)

    @classmethod
    def _create(cls, name, weights, *, device="cpu", preprocess_cfg=None) -> ClipBridge:
        open_clip = _open_clip()
        if weights is not None and not Path(weights).is_file():
            raise CheckpointError(f"CLIP weights {weights} do not exist")
        try:
            model = open_clip.create_model(
                name,
                pretrained=None if weights is None else str(weights),
                device=device,
                force_preprocess_cfg=preprocess_cfg,
            )
        except RuntimeError as e:
            raise CheckpointError(f"open_clip could not load {name} from {weights}: {e}") from e
        except (TypeError, KeyError, ValueError) as e:
            raise ConfigError(f"open_clip rejected the model config of {name}: {e}") from e
        return cls(model, open_clip.get_tokenizer(name), name=name)

    # ---- properties --------------------------------------------------------------------------

    @property
    def embed_dim(self) -> int:
        """Width of the joint embedding space."""
        projection = getattr(self.model, "text_projection", None)
        if isinstance(projection, torch.Tensor):
            return int(projection.shape[1])
        return int(self.model.visual.output_dim)

    @property
    def image_size(self) -> int | tuple[int, int]:
        """The model's input size (an int when square)."""
        h, w = self._size
        return h if h == w else (h, w)

    @property
    def logit_scale(self) -> float:
        """The learned softmax temperature, exponentiated (100 for OpenAI's CLIP)."""
        return float(self.model.logit_scale.detach().float().exp())

    @property
    def context_length(self) -> int:
        """Tokens per text."""
        return int(getattr(self.tokenizer, "context_length", 77))

    # ---- embedding ---------------------------------------------------------------------------

    @torch.no_grad()
    def embed_text(self, texts: list[str] | str) -> torch.Tensor:
        """Unit-norm text embeddings [N, D] (no gradient)."""
        if isinstance(texts, str):
            texts = [texts]
        if not texts:
            raise ValueError("embed_text needs at least one text")
        tokens = self.tokenizer(list(texts)).to(self.mean.device)  # [N, T]
        return F.normalize(self.model.encode_text(tokens).float(), dim=-1)

    def embed_image(self, images: torch.Tensor) -> torch.Tensor:
        """Unit-norm image embeddings [B, D] of images [B, 3, H, W] in [-1, 1] (differentiable)."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images [B, 3, H, W] in [-1, 1], got {tuple(images.shape)}")
        x = self.preprocess(images)
        dtype = self.model.logit_scale.dtype
        return F.normalize(self.model.encode_image(x.to(dtype)).float(), dim=-1)

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """[-1, 1] images -> the model's normalised input at its size (antialiased resize)."""
        x = (images.float() + 1) / 2  # [B, 3, H, W] in [0, 1]
        if tuple(x.shape[-2:]) != self._size:
            x = F.interpolate(x, size=self._size, mode="bilinear", antialias=True)
        return (x - self.mean) / self.std

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Same as :meth:`embed_image`."""
        return self.embed_image(images)


def _sequence_first(transformer: nn.Module | None) -> None:
    """Run an open_clip image transformer sequence-first ([L, N, D], its own option): batch-first,
    ``nn.MultiheadAttention`` transposes the tokens inside and, when a gradient flows back to
    the image (every edit step), projects them with one small matrix product per token."""
    blocks = getattr(transformer, "resblocks", ())
    attentions = [getattr(block, "attn", None) for block in blocks]
    if not getattr(transformer, "batch_first", False) or not attentions:
        return
    if all(isinstance(attn, nn.MultiheadAttention) for attn in attentions):
        transformer.batch_first = False
        for attn in attentions:
            attn.batch_first = False


def _read_config(config: dict | str | Path) -> tuple[dict, dict | None, Path | None]:
    """(model_cfg, preprocess_cfg or None, default weights path or None) from any accepted form."""
    default_weights = None
    if isinstance(config, (str, Path)):
        path = Path(config)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise ConfigError(f"CLIP config file {path} does not exist") from e
        except json.JSONDecodeError as e:
            raise ConfigError(f"CLIP config file {path} is not valid JSON: {e}") from e
        if "kind" in data and "config" in data:
            sibling = path.with_suffix(".safetensors")
            default_weights = sibling if sibling.is_file() else None
    elif isinstance(config, dict):
        data = config
    else:
        raise ConfigError(f"a CLIP config is a dict or a JSON file, got {type(config).__name__}")
    if "kind" in data and "config" in data:
        if data["kind"] not in CLIP_KINDS:
            raise ConfigError(f"the record holds a {data['kind']!r} model, not {CLIP_KINDS}")
        data = data["config"]
    preprocess_cfg = data.get("preprocess_cfg") if "model_cfg" in data else None
    model_cfg = dict(data.get("model_cfg", data))
    missing = [k for k in _REQUIRED if k not in model_cfg]
    if missing:
        raise ConfigError(
            f"open_clip model config lacks {', '.join(missing)}; it needs {', '.join(_REQUIRED)} "
            "(see open_clip's model_configs/*.json)"
        )
    vision = dict(model_cfg["vision_cfg"])
    if "head_width" not in vision and isinstance(vision.get("width"), int):
        # open_clip's default head width (64) leaves a narrower tiny tower with zero heads.
        vision["head_width"] = min(64, vision["width"])
        model_cfg["vision_cfg"] = vision
    return model_cfg, preprocess_cfg, default_weights


def _config_name(model_cfg: dict) -> str:
    """A name for messages, derived from the config's content."""
    text = json.dumps(model_cfg, sort_keys=True)
    return "soundedit-" + hashlib.sha1(text.encode()).hexdigest()[:12]


def _build_from_config(model_cfg: dict, weights, preprocess_cfg: dict | None):
    """(open_clip model, tokenizer) of model-config data, as open_clip.create_model builds them
    for a config of its own (fp32, CPU), with ``weights`` loaded strictly when given."""
    open_clip = _open_clip()
    cfg = copy.deepcopy(model_cfg)
    custom_text = cfg.pop("custom_text", False) or "hf_model_name" in cfg["text_cfg"]
    model_class = open_clip.CustomTextCLIP if custom_text else open_clip.CLIP
    try:
        model = model_class(**cfg)
    except (TypeError, KeyError, ValueError) as e:
        raise ConfigError(f"open_clip rejected the model config: {e}") from e
    if weights is not None:
        try:
            open_clip.load_checkpoint(model, str(weights), strict=True)
        except RuntimeError as e:
            raise CheckpointError(f"open_clip could not load {weights} into the config: {e}") from e
    preprocess = dataclasses.asdict(open_clip.transform.PreprocessCfg())
    preprocess["size"] = model.visual.image_size
    open_clip.set_model_preprocess_cfg(
        model, open_clip.transform.merge_preprocess_dict(preprocess, preprocess_cfg or {})
    )
    context_length = cfg["text_cfg"].get(
        "context_length", open_clip.tokenizer.DEFAULT_CONTEXT_LENGTH
    )
    return model, open_clip.SimpleTokenizer(context_length=context_length)


def _resolve_tag(name: str, tag: str) -> Path:
    """The local file of the registry's CLIP entry for (architecture, tag)."""
    entries = [e for e in hub.load_registry().values() if e.kind == "clip"]
    for entry in entries:
        defaults = entry.defaults or {}
        arch = defaults.get("arch", DEFAULT_ARCH)
        if defaults.get("pretrained", "openai") == tag and arch.replace("-quickgelu", "") in name:
            return hub.resolve(entry.name)
    known = ", ".join(f"{(e.defaults or {}).get('pretrained', 'openai')}" for e in entries)
    raise ConfigError(
        f"{tag!r} is neither a file nor a CLIP tag in weights/registry.toml for {name}; "
        f"known tags: {known or 'none'}"
    )
