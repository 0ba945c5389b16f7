"""Tensors that load but are not plain numbers: refused by the latent and checkpoint readers in
one sentence (library and CLI), never a crash further on; damaged files that claim tensors of
terabytes are called damaged, not "out of memory"."""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import numpy.lib.format as npy_format
import pytest
import soundfile as sf
import torch

from soundedit.edit.latents import load_latent
from soundedit.errors import SoundEditError, user_message
from soundedit.gan.checkpoints import load_generator

from .corpus import N_LATENT, RATE, STYLE_DIM, noise
from .surfaces import assert_plain, cli_refusal, edit_argv

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # torch on sparse/quantized

ACCEPTED = r"accepted: .*dense CPU tensors of float32"


def _quantized(shape):
    return torch.quantize_per_tensor(torch.zeros(shape), 0.1, 0, torch.qint8)


EXOTIC = {  # name: (tensor maker for a shape, regex of what it is)
    "sparse-coo": (lambda s: torch.zeros(s).to_sparse(), r"sparse tensor \(sparse_coo\)"),
    "sparse-csr": (lambda s: torch.zeros(s).reshape(s[0], -1).to_sparse_csr(), r"sparse"),
    "meta-device": (lambda s: torch.zeros(s, device="meta"), r"meta device"),
    "quantized": (_quantized, r"quantized tensor \(qint8\)"),
    "int64": (lambda s: torch.zeros(s, dtype=torch.int64), r"int64 numbers"),
    "int32": (lambda s: torch.ones(s, dtype=torch.int32), r"int32 numbers"),
    "uint8": (lambda s: torch.ones(s, dtype=torch.uint8), r"uint8 numbers"),
    "int8": (lambda s: torch.ones(s, dtype=torch.int8), r"int8 numbers"),
    "bool": (lambda s: torch.ones(s, dtype=torch.bool), r"bool numbers"),
    "complex64": (lambda s: torch.zeros(s, dtype=torch.complex64), r"complex64 numbers"),
    "complex128": (lambda s: torch.zeros(s, dtype=torch.complex128), r"complex128 numbers"),
}


def _latent_file(tmp_path: Path, name: str) -> Path:
    make, _ = EXOTIC[name]
    path = tmp_path / "w.pt"
    torch.save(make((N_LATENT, STYLE_DIM)), path)
    return path


@pytest.mark.parametrize("name", sorted(EXOTIC))
def test_library_refuses_an_exotic_latent(name, tmp_path):
    with pytest.raises(SoundEditError) as caught:
        load_latent(_latent_file(tmp_path, name), n_latent=N_LATENT, style_dim=STYLE_DIM)
    assert_plain(user_message(caught.value), "w.pt", EXOTIC[name][1], "real numbers")


@pytest.mark.parametrize("name", sorted(EXOTIC))
def test_cli_refuses_an_exotic_latent(name, hostile_bundle, tmp_path):
    sound = tmp_path / "ok.wav"
    sf.write(str(sound), noise(0.5), RATE)
    latent = _latent_file(tmp_path, name)
    argv = edit_argv(tmp_path / "out", "--audio", str(sound), "--source-latent", str(latent))
    cli_refusal(argv, EXOTIC[name][1])


@pytest.mark.parametrize("kind", ["i4", "u1", "i8", "b1", "c8"])
def test_numpy_latents_must_hold_floating_point_numbers(kind, tmp_path):
    path = tmp_path / "w.npy"
    np.save(path, np.ones(STYLE_DIM, dtype=kind))
    with pytest.raises(SoundEditError) as caught:
        load_latent(path, n_latent=N_LATENT, style_dim=STYLE_DIM)
    assert_plain(str(caught.value), r"a latent holds real numbers \(floating point\)")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_half_and_double_latents_are_widened_or_narrowed_to_float32(dtype, tmp_path):
    path = tmp_path / "w.pt"
    torch.save(torch.full((STYLE_DIM,), 0.5, dtype=dtype), path)
    w = load_latent(path, n_latent=N_LATENT, style_dim=STYLE_DIM)
    assert w.dtype == torch.float32 and w.shape == (1, N_LATENT, STYLE_DIM)


# ---- checkpoints --------------------------------------------------------------------------


def _checkpoint(generator, path: Path, replace: dict | None = None) -> Path:
    state = dict(generator.state_dict())
    state.update(replace or {})
    torch.save({"g_ema": state, "latent_avg": generator.mean_w.clone()}, path)
    return path


def _exotic_checkpoint(generator, tmp_path: Path, name: str) -> Path:
    key = "style.1.bias"
    make, _ = EXOTIC[name]
    shape = tuple(generator.state_dict()[key].shape)
    return _checkpoint(generator, tmp_path / "g.pt", {key: make(shape)})


CKPT_EXOTIC = [n for n in sorted(EXOTIC) if n != "sparse-csr"]  # CSR needs two dimensions


@pytest.mark.parametrize("name", CKPT_EXOTIC)
def test_library_refuses_a_checkpoint_with_an_exotic_tensor(name, hostile_bundle, tmp_path):
    path = _exotic_checkpoint(hostile_bundle.generator, tmp_path, name)
    with pytest.raises(SoundEditError) as caught:
        load_generator(path)
    assert_plain(user_message(caught.value), r"tensor style\.1\.bias", EXOTIC[name][1], ACCEPTED)


@pytest.mark.parametrize("name", CKPT_EXOTIC)
def test_cli_inspect_refuses_a_checkpoint_with_an_exotic_tensor(name, hostile_bundle, tmp_path):
    path = _exotic_checkpoint(hostile_bundle.generator, tmp_path, name)
    cli_refusal(["inspect", str(path)], EXOTIC[name][1])


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_checkpoint_with_non_finite_weights_is_refused(value, hostile_bundle, tmp_path):
    G = hostile_bundle.generator
    bias = G.state_dict()["style.1.bias"].clone()
    bias[0] = value
    path = _checkpoint(G, tmp_path / "g.pt", {"style.1.bias": bias})
    with pytest.raises(SoundEditError, match=r"NaN or infinite values"):
        load_generator(path)


def test_a_plain_checkpoint_of_the_same_generator_loads(hostile_bundle, tmp_path):
    G = hostile_bundle.generator
    loaded = load_generator(_checkpoint(G, tmp_path / "g.pt"))
    assert torch.equal(loaded.mean_w, G.mean_w)


# ---- a few bytes that claim terabytes ----------------------------------------------------

HUGE = r"claims tensors far larger than the file itself"


def _huge_npy(path: Path) -> None:
    buf = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": (10**13,)}
    npy_format.write_array_header_1_0(buf, header)
    path.write_bytes(buf.getvalue() + bytes(64))


def _huge_pt(path: Path) -> None:
    """A torch zip whose pickle claims a storage of 2**48 floats (1 PB) for 64 bytes."""
    torch.save(torch.zeros(16), path)
    with zipfile.ZipFile(path) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    pkl = next(n for n in entries if n.endswith("data.pkl"))
    entries[pkl] = entries[pkl].replace(b"K\x10\x85", b"\x8a\x06\x00\x00\x00\x00\x00\x01\x85", 1)
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)


def _huge_nvidia(path: Path) -> None:
    """An NVIDIA-style pickle holding a numpy array that claims 2**42 float32 values."""

    class Huge:
        def __reduce__(self):
            return (np.ndarray, ((2**42,), np.dtype("float32")))

    path.write_bytes(pickle.dumps({"G_ema": Huge()}))


@pytest.mark.parametrize(("write", "name"), [(_huge_npy, "w.npy"), (_huge_pt, "w.pt")])
def test_library_calls_a_latent_claiming_terabytes_damaged(write, name, tmp_path):
    write(tmp_path / name)
    with pytest.raises(SoundEditError) as caught:
        load_latent(tmp_path / name, n_latent=N_LATENT, style_dim=STYLE_DIM)
    assert_plain(user_message(caught.value), HUGE)


@pytest.mark.parametrize(("write", "name"), [(_huge_npy, "w.npy"), (_huge_pt, "w.pt")])
def test_cli_calls_a_latent_claiming_terabytes_damaged(write, name, hostile_bundle, tmp_path):
    write(tmp_path / name)
    sound = tmp_path / "ok.wav"
    sf.write(str(sound), noise(0.5), RATE)
    argv = edit_argv(
        tmp_path / "out", "--audio", str(sound), "--source-latent", str(tmp_path / name)
    )
    cli_refusal(argv, HUGE)


@pytest.mark.parametrize(("write", "name"), [(_huge_pt, "g.pt"), (_huge_nvidia, "g.pkl")])
def test_a_checkpoint_claiming_terabytes_is_damaged_not_out_of_memory(write, name, tmp_path):
    write(tmp_path / name)
    with pytest.raises(SoundEditError) as caught:
        load_generator(tmp_path / name)
    message = user_message(caught.value)
    assert_plain(message, r"(claims tensors far larger|could not be read|not a StyleGAN2)")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (torch.zeros(4, dtype=torch.int64), r"int64 numbers"),
        (torch.full((4,), float("nan")), r"NaN or infinite values"),
        (torch.zeros(4, dtype=torch.complex64), r"complex64 numbers"),
    ],
    ids=["int64", "nan", "complex"],
)
def test_our_safetensors_checkpoints_hold_plain_float_tensors(
    value, words, hostile_bundle, tmp_path
):
    from soundedit.weights_io import save_weights

    G = hostile_bundle.generator
    tensors = {**G.state_dict(), "style.1.bias": value}
    path = save_weights(tmp_path / "g", tensors, kind="stylegan2", config=G.config)
    with pytest.raises(SoundEditError) as caught:
        load_generator(path)
    assert_plain(user_message(caught.value), r"tensor style\.1\.bias", words)
    cli_refusal(["inspect", str(path)], words)
