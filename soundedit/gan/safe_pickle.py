"""A restricted unpickler for NVIDIA and TensorFlow StyleGAN pickles: data in, no code run.

Only the globals in :data:`ALLOWED` can be named by the pickle, and the dangerous ones are
replaced: NVIDIA's persistence reconstructor returns an inert :class:`PersistentRecord` (its
``module_src`` is kept as text and never executed), ``dnnlib.util.EasyDict`` becomes a dict,
``dnnlib.tflib.network.Network`` becomes an inert :class:`TFNetworkStub`, and tensor storages
are read with ``torch.load(weights_only=True)``. Anything else raises :class:`CheckpointError`
naming the refused global before it is imported.
"""

from __future__ import annotations

import collections
import io
import pickle
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
import torch

from soundedit.errors import CheckpointError
from soundedit.tensors import IMPOSSIBLE_SIZE, read_failure


@dataclass
class PersistentRecord:
    """What an NVIDIA persistent object holds, without its class: a name and its ``__dict__``."""

    class_name: str
    state: dict[str, Any] = field(default_factory=dict)
    version: Any = None


class TFNetworkStub:
    """Stand-in for ``dnnlib.tflib.network.Network``: keeps the pickled state as plain data."""

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise CheckpointError("a TensorFlow Network's state is not a dict")
        self.state = state


class EasyDict(dict):
    """Stand-in for ``dnnlib.util.EasyDict`` (a dict with attribute access; here just a dict)."""


def _reconstruct_persistent(meta: Any) -> PersistentRecord:
    if not isinstance(meta, dict) or meta.get("type") != "class":
        raise CheckpointError("unsupported NVIDIA persistent object (expected type 'class')")
    state = meta.get("state") or {}
    if not isinstance(state, dict):
        raise CheckpointError(f"persistent object {meta.get('class_name')} has no state dict")
    return PersistentRecord(str(meta.get("class_name")), state, meta.get("version"))


def _load_storage(data: bytes):
    return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None, *rest):
    if not isinstance(storage, (torch.TypedStorage, torch.UntypedStorage)):
        raise CheckpointError("a tensor in the pickle is not backed by a storage")
    empty = collections.OrderedDict()
    return torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, empty)


def _rebuild_parameter(data, requires_grad=True, hooks=None, *rest):
    if not isinstance(data, torch.Tensor):
        raise CheckpointError("a parameter in the pickle is not a tensor")
    return torch.nn.Parameter(data, requires_grad=bool(requires_grad))


def _reconstructor(cls, base, state=None):
    # protocol 0/1 pickles build objects through copyreg; only our stubs may be built.
    if cls not in (TFNetworkStub, EasyDict) or base not in (object, dict):
        raise CheckpointError(f"refused to build {cls!r} through copyreg")
    return cls() if base is dict else object.__new__(cls)


ALLOWED: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("copyreg", "_reconstructor"): _reconstructor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _load_storage,
    ("torch", "Size"): torch.Size,
    ("torch", "device"): torch.device,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent,
    ("dnnlib.util", "EasyDict"): EasyDict,
    ("dnnlib.tflib.network", "Network"): TFNetworkStub,
}


def _numpy_global(module: str, name: str):
    if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name in (
        "_reconstruct",
        "scalar",
    ):
        return getattr(np._core.multiarray if hasattr(np, "_core") else np.core.multiarray, name)
    return None


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that resolves globals only through :data:`ALLOWED`."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in ALLOWED:
            return ALLOWED[(module, name)]
        numpy_fn = _numpy_global(module, name)
        if numpy_fn is not None:
            return numpy_fn
        if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
            return getattr(torch, name)
        raise CheckpointError(
            f"refused {module}.{name}: not on the allow-list of data types for StyleGAN pickles "
            "(nothing was executed)"
        )

    def persistent_load(self, pid: Any) -> Any:
        raise CheckpointError("refused a persistent id: plain StyleGAN pickles do not use them")


def safe_load(file: BinaryIO) -> Any:
    """Unpickle ``file`` with :class:`RestrictedUnpickler`.

    Raises:
        CheckpointError: a refused global, or a truncated/damaged pickle.
    """
    try:
        return RestrictedUnpickler(file).load()
    except CheckpointError:
        raise
    except MemoryError as e:  # a few bytes that claim an array of terabytes
        raise CheckpointError(f"the pickle {IMPOSSIBLE_SIZE}") from e
    except (pickle.UnpicklingError, EOFError) as e:
        raise CheckpointError(f"the pickle is truncated or damaged ({e})") from e
    except (AttributeError, ValueError, TypeError, IndexError, KeyError, RuntimeError) as e:
        raise CheckpointError(f"the pickle could not be read as data ({read_failure(e)})") from e
