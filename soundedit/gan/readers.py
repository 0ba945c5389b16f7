"""Format-specific readers behind :func:`soundedit.gan.checkpoints.read_checkpoint`.

Each reader turns its source into rosinality-named tensors (FORMATS.md gives the mappings);
:func:`finish` then reads the architecture from the tensor shapes and checks every tensor
against a generator built from it, so a file of another layout fails with a clear message.
"""

from __future__ import annotations

import argparse
import pickle
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from soundedit.errors import CheckpointError, ConfigError
from soundedit.gan.safe_pickle import PersistentRecord, TFNetworkStub, safe_load
from soundedit.gan.stylegan2 import Generator, GeneratorConfig
from soundedit.tensors import ACCEPTED_TENSORS, plain_float, read_failure

# torch.save's legacy (pre-1.6, non-zip) files start with this pickled magic number.
_LEGACY_TORCH_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"
ACCEPTED = (
    "rosinality .pt (g_ema [+ latent_avg]), NVIDIA stylegan2-ada/stylegan3 pickles (G_ema), "
    "original TensorFlow StyleGAN2 pickles (G, D, Gs) and soundedit .safetensors + .json"
)


MEAN_W_SAMPLES = 4096  # samples used to estimate mean w when a file has none


@dataclass(frozen=True)
class LoadedCheckpoint:
    state_dict: dict[str, torch.Tensor]  # rosinality names + "mean_w"
    config: GeneratorConfig  # architecture read from the tensors
    format: str  # one of FORMATS
    info: dict[str, Any] = field(default_factory=dict)  # has_mean_w, source details, notes


def read_file(path: Path) -> LoadedCheckpoint:
    """Dispatch on the file's bytes, not its name."""
    with path.open("rb") as f:
        head = f.read(len(_LEGACY_TORCH_MAGIC))
    if zipfile.is_zipfile(path) or head == _LEGACY_TORCH_MAGIC:
        return read_rosinality(path)
    try:
        with path.open("rb") as f:
            obj = safe_load(f)
    except CheckpointError as e:
        raise CheckpointError(f"{path}: {e}; accepted: {ACCEPTED}") from e
    if isinstance(obj, Mapping) and isinstance(obj.get("G_ema"), PersistentRecord):
        return read_nvidia(obj, path)
    if isinstance(obj, tuple) and obj and all(isinstance(n, TFNetworkStub) for n in obj):
        return read_tensorflow(obj[-1], path)
    if isinstance(obj, TFNetworkStub):
        return read_tensorflow(obj, path)
    raise CheckpointError(
        f"{path}: a pickle, but not a StyleGAN2 layout we know; accepted: {ACCEPTED}"
    )


def _first_sentence(error: Exception) -> str:
    """A reader's reason without PyTorch's advice ("Could this error message be improved?")."""
    return read_failure(error)


# ---- rosinality -----------------------------------------------------------------------------


def read_rosinality(path: Path) -> LoadedCheckpoint:
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        refused = re.search(r"GLOBAL ([\w.]+)", str(e))
        what = f"refused {refused.group(1)}" if refused else "refused"
        raise CheckpointError(
            f"{path}: {what}: not on the allow-list of data types (nothing was executed); "
            f"accepted: {ACCEPTED}"
        ) from e
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, MemoryError) as e:
        raise CheckpointError(
            f"{path}: torch file is truncated or damaged ({_first_sentence(e)}); "
            f"accepted: {ACCEPTED}"
        ) from e
    if not isinstance(ckpt, Mapping):
        raise CheckpointError(f"{path}: expected a dict with g_ema; accepted: {ACCEPTED}")
    info: dict[str, Any] = {}
    if "g_ema" in ckpt:
        state, mean_w = ckpt["g_ema"], ckpt.get("latent_avg")
        info["source"] = "training file" if "g" in ckpt or "d" in ckpt else "converted"
        if isinstance(ckpt.get("args"), argparse.Namespace):
            args = vars(ckpt["args"])
            info["args"] = {k: v for k, v in args.items() if isinstance(v, (int, float, str))}
    elif "style.1.weight" in ckpt:
        state, mean_w = ckpt, ckpt.get("latent_avg")
        info["source"] = "bare state dict"
    else:
        keys = ", ".join(sorted(map(str, ckpt))[:8])
        raise CheckpointError(f"{path}: no g_ema in this file (keys: {keys}); accepted: {ACCEPTED}")
    if not isinstance(state, Mapping):
        raise CheckpointError(f"{path}: g_ema is not a state dict")
    tensors = {k: v for k, v in state.items() if not k.endswith(".kernel") and k != "latent_avg"}
    return finish(tensors, mean_w, "rosinality", info, path)


# ---- NVIDIA persistence pickles ---------------------------------------------------------------


def _flatten(record: PersistentRecord, prefix: str = "") -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for group in ("_parameters", "_buffers"):
        for name, value in (record.state.get(group) or {}).items():
            if isinstance(value, torch.Tensor):
                out[prefix + name] = value.detach()
    for name, sub in (record.state.get("_modules") or {}).items():
        if isinstance(sub, PersistentRecord):
            out.update(_flatten(sub, f"{prefix}{name}."))
        elif sub is not None:
            raise CheckpointError(f"sub-module {prefix}{name} is not a persistent object")
    return out


def _layer(src: dict, nv: str, ro: str, *, rgb: bool = False) -> dict[str, torch.Tensor]:
    out = {
        f"{ro}.conv.weight": src[f"{nv}.weight"][None],
        f"{ro}.conv.modulation.weight": src[f"{nv}.affine.weight"],
        f"{ro}.conv.modulation.bias": src[f"{nv}.affine.bias"],
    }
    if rgb:
        out[f"{ro}.bias"] = src[f"{nv}.bias"].reshape(1, -1, 1, 1)
    else:
        out[f"{ro}.activate.bias"] = src[f"{nv}.bias"]
        out[f"{ro}.noise.weight"] = src[f"{nv}.noise_strength"].reshape(1)
    return out


def read_nvidia(obj: Mapping, path: Path) -> LoadedCheckpoint:
    g_ema: PersistentRecord = obj["G_ema"]
    kwargs = dict(g_ema.state.get("_init_kwargs") or {})
    src = _flatten(g_ema)
    if kwargs.get("c_dim") or "mapping.embed.weight" in src:
        raise CheckpointError(f"{path}: conditional generators (c_dim > 0) are not supported")
    if any(".skip." in k for k in src) or any(k.startswith("synthesis.input.") for k in src):
        raise CheckpointError(
            f"{path}: only the StyleGAN2 'skip' synthesis is supported "
            "(this is a resnet or StyleGAN3 generator)"
        )
    try:
        tensors = _nvidia_to_rosinality(src)
    except KeyError as e:
        raise CheckpointError(
            f"{path}: NVIDIA pickle lacks tensor {e}; accepted: {ACCEPTED}"
        ) from e
    mapping = (g_ema.state.get("_modules") or {}).get("mapping")
    mapping_kwargs = mapping.state.get("_init_kwargs") or {} if mapping is not None else {}
    lr_mlp = mapping_kwargs.get("lr_multiplier", 0.01)
    info = {
        "class_name": g_ema.class_name,
        "init_kwargs": {k: v for k, v in kwargs.items() if isinstance(v, (int, float, str))},
        "note": "conv_clamp and fp16 layers of NVIDIA pickles are not reproduced",
    }
    return finish(tensors, src.get("mapping.w_avg"), "nvidia", info, path, lr_mlp=float(lr_mlp))


def _nvidia_to_rosinality(src: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    i = 0
    while f"mapping.fc{i}.weight" in src:
        out[f"style.{i + 1}.weight"] = src[f"mapping.fc{i}.weight"]
        out[f"style.{i + 1}.bias"] = src[f"mapping.fc{i}.bias"]
        i += 1
    out["input.input"] = src["synthesis.b4.const"][None]
    out.update(_layer(src, "synthesis.b4.conv1", "conv1"))
    out.update(_layer(src, "synthesis.b4.torgb", "to_rgb1", rgb=True))
    out["noises.noise_0"] = src["synthesis.b4.conv1.noise_const"][None, None]
    i = 1
    while f"synthesis.b{4 * 2**i}.conv0.weight" in src:
        block = f"synthesis.b{4 * 2**i}"
        for c in (0, 1):
            out.update(_layer(src, f"{block}.conv{c}", f"convs.{2 * i - 2 + c}"))
            out[f"noises.noise_{2 * i - 1 + c}"] = src[f"{block}.conv{c}.noise_const"][None, None]
        out.update(_layer(src, f"{block}.torgb", f"to_rgbs.{i - 1}", rgb=True))
        i += 1
    return out


# ---- TensorFlow pickles -------------------------------------------------------------------------


def _tf_params(net: TFNetworkStub, prefix: str = "") -> dict[str, np.ndarray]:
    state = net.state
    out = {}
    for name, value in state.get("variables") or []:
        out[prefix + str(name)] = np.asarray(value)
    for name, comp in (state.get("components") or {}).items():
        if isinstance(comp, TFNetworkStub):
            out.update(_tf_params(comp, f"{prefix}{name}/"))
    return out


def _tf_layer(src: dict, tf: str, ro: str, *, flip: bool = False, rgb: bool = False) -> dict:
    weight = src.pop(f"{tf}/weight")  # HWIO
    if flip:
        weight = weight[::-1, ::-1]
    out = {
        f"{ro}.conv.weight": weight.transpose(3, 2, 0, 1)[None],
        f"{ro}.conv.modulation.weight": src.pop(f"{tf}/mod_weight").T,
        f"{ro}.conv.modulation.bias": src.pop(f"{tf}/mod_bias") + 1,
    }
    if rgb:
        out[f"{ro}.bias"] = src.pop(f"{tf}/bias").reshape(1, -1, 1, 1)
    else:
        out[f"{ro}.activate.bias"] = src.pop(f"{tf}/bias")
        out[f"{ro}.noise.weight"] = np.reshape(src.pop(f"{tf}/noise_strength"), (1,))
    return out


def read_tensorflow(gs: TFNetworkStub, path: Path) -> LoadedCheckpoint:
    state = gs.state
    if int(state.get("version", 0) or 0) < 3:
        raise CheckpointError(
            f"{path}: TF network pickle version {state.get('version')} is too old"
        )
    src = _tf_params(gs)
    kwargs = dict(state.get("static_kwargs") or {})
    if any("LabelEmbed" in k or "LabelConcat" in k for k in src):
        raise CheckpointError(f"{path}: conditional TF generators are not supported")
    try:
        tensors = _tf_to_rosinality(src)
    except KeyError as e:
        raise CheckpointError(f"{path}: TF pickle lacks variable {e}; accepted: {ACCEPTED}") from e
    leftover = sorted(k for k in src if k.endswith(("/weight", "/bias")))
    if leftover:
        raise CheckpointError(
            f"{path}: unsupported TF synthesis layout (e.g. {leftover[0]}); "
            "only the config-e/f 'skip' generator is read"
        )
    mean_w = src.get("dlatent_avg")
    info = {
        "name": state.get("name"),
        "static_kwargs": {k: v for k, v in kwargs.items() if isinstance(v, (int, float, str))},
    }
    lr_mlp = float(kwargs.get("mapping_lrmul", 0.01))
    return finish(tensors, mean_w, "tensorflow", info, path, lr_mlp=lr_mlp)


def _tf_to_rosinality(src: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    out: dict[str, Any] = {}
    i = 0
    while f"mapping/Dense{i}/weight" in src:
        out[f"style.{i + 1}.weight"] = src.pop(f"mapping/Dense{i}/weight").T
        out[f"style.{i + 1}.bias"] = src.pop(f"mapping/Dense{i}/bias")
        i += 1
    out["input.input"] = src.pop("synthesis/4x4/Const/const")
    out.update(_tf_layer(src, "synthesis/4x4/Conv", "conv1"))
    out.update(_tf_layer(src, "synthesis/4x4/ToRGB", "to_rgb1", rgb=True))
    i = 1
    while f"synthesis/{4 * 2**i}x{4 * 2**i}/Conv0_up/weight" in src:
        block = f"synthesis/{4 * 2**i}x{4 * 2**i}"
        out.update(_tf_layer(src, f"{block}/Conv0_up", f"convs.{2 * i - 2}", flip=True))
        out.update(_tf_layer(src, f"{block}/Conv1", f"convs.{2 * i - 1}"))
        out.update(_tf_layer(src, f"{block}/ToRGB", f"to_rgbs.{i - 1}", rgb=True))
        i += 1
    for n in range(2 * i - 1):
        out[f"noises.noise_{n}"] = src.pop(f"synthesis/noise{n}")
    return {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in out.items()}


# ---- shared -----------------------------------------------------------------------------------


def checked_tensor(value: Any, where: str) -> torch.Tensor:
    """A checkpoint tensor (or a TF pickle's numpy array) as dense finite float32, or
    CheckpointError naming it: sparse, quantized, meta, integer or complex values are refused."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind != "f":
            kind = value.dtype
            raise CheckpointError(f"{where} holds {kind} values; accepted: {ACCEPTED_TENSORS}")
        value = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
    tensor = plain_float(value, where=where, error=CheckpointError)
    if not torch.isfinite(tensor).all():
        raise CheckpointError(f"{where} holds NaN or infinite values; a generator needs finite")
    return tensor


def infer_config(tensors: Mapping[str, torch.Tensor], *, lr_mlp: float = 0.01) -> GeneratorConfig:
    """The architecture from rosinality-named tensor shapes (nothing assumed)."""
    try:
        style_dim = int(tensors["style.1.weight"].shape[1])
        channels = {4: int(tensors["input.input"].shape[1])}
    except (KeyError, IndexError) as e:
        raise CheckpointError(f"no mapping layer or constant input ({e})") from e
    n_mlp = 0
    while f"style.{n_mlp + 1}.weight" in tensors:
        n_mlp += 1
    k = 0
    while f"to_rgbs.{k}.conv.weight" in tensors:
        channels[8 * 2**k] = int(tensors[f"convs.{2 * k}.conv.weight"].shape[1])
        k += 1
    resolution = max(channels)
    for cm in (2, 1, 4):
        if GeneratorConfig(resolution, channel_multiplier=cm).channel_table() == channels:
            return GeneratorConfig(resolution, style_dim, n_mlp, cm, lr_mlp=lr_mlp)
    return GeneratorConfig(resolution, style_dim, n_mlp, channels=channels, lr_mlp=lr_mlp)


def finish(
    tensors: dict[str, Any],
    mean_w: Any,
    fmt: str,
    info: dict[str, Any],
    path: Path,
    *,
    lr_mlp: float = 0.01,
) -> LoadedCheckpoint:
    """Check the tensors against a generator of the inferred shape; estimate mean w if absent."""
    try:
        config = infer_config(tensors, lr_mlp=lr_mlp)
    except ConfigError as e:
        raise CheckpointError(f"{path}: unsupported architecture: {e}") from e
    except CheckpointError as e:
        raise CheckpointError(f"{path}: {e}; accepted: {ACCEPTED}") from e
    generator = Generator(config)
    state = {k: checked_tensor(v, f"{path.name}: tensor {k}") for k, v in tensors.items()}
    if mean_w is not None:
        state["mean_w"] = checked_tensor(mean_w, f"{path.name}: mean w").reshape(-1)
    else:
        state["mean_w"] = generator.mean_w
    try:
        generator.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).split("\n\t")[1:3]
        raise CheckpointError(
            f"{path}: tensors do not fit a StyleGAN2 generator of the shape they imply "
            f"({'; '.join(first)})"
        ) from e
    info = {"has_mean_w": mean_w is not None, **info}
    if mean_w is None:
        generator.compute_mean_w(MEAN_W_SAMPLES, torch.Generator().manual_seed(0))
        info["mean_w"] = f"estimated from {MEAN_W_SAMPLES} samples (seed 0)"
    return LoadedCheckpoint(generator.state_dict(), config, fmt, info)
