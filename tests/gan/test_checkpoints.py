"""Synthetic checkpoints in each exact on-disk layout: they load, agree, and nothing executes.

The writers below build the files the way their original code does: torch.save of rosinality
names; pickles of objects that reduce to ``torch_utils.persistence._reconstruct_persistent_obj``
(NVIDIA) or that are ``dnnlib.tflib.network.Network`` instances (TF). The fake ``torch_utils`` /
``dnnlib`` modules exist only while *writing*; the reader must never need them.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import types
from collections import OrderedDict

import numpy as np
import pytest
import torch

from soundedit.errors import CheckpointError
from soundedit.gan.checkpoints import describe, load_generator, read_checkpoint, save_generator

EVIL_SRC = "import pathlib; pathlib.Path({!r}).write_text('pwned')"


# ---- fake modules for writing --------------------------------------------------------------


@pytest.fixture
def fake_modules(monkeypatch):
    """torch_utils.persistence, dnnlib.util and dnnlib.tflib.network, present only while writing."""

    def _reconstruct_persistent_obj(meta):  # pragma: no cover - must never run
        raise AssertionError("the reader called the real persistence reconstructor")

    persistence = types.ModuleType("torch_utils.persistence")
    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    persistence._reconstruct_persistent_obj = _reconstruct_persistent_obj

    class EasyDict(dict):
        pass

    class Network:
        def __init__(self, state):
            self._state = state

        def __getstate__(self):
            return self._state

        def __setstate__(self, state):  # pragma: no cover - must never run
            raise AssertionError("the reader built a real Network")

    EasyDict.__module__, EasyDict.__qualname__ = "dnnlib.util", "EasyDict"
    Network.__module__, Network.__qualname__ = "dnnlib.tflib.network", "Network"
    util = types.ModuleType("dnnlib.util")
    util.EasyDict = EasyDict
    network = types.ModuleType("dnnlib.tflib.network")
    network.Network = Network
    modules = {
        "torch_utils": types.ModuleType("torch_utils"),
        "torch_utils.persistence": persistence,
        "dnnlib": types.ModuleType("dnnlib"),
        "dnnlib.util": util,
        "dnnlib.tflib": types.ModuleType("dnnlib.tflib"),
        "dnnlib.tflib.network": network,
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    ns = types.SimpleNamespace(reconstruct=_reconstruct_persistent_obj, EasyDict=EasyDict)
    ns.Network = Network
    ns.hide = lambda: [monkeypatch.delitem(sys.modules, name) for name in modules]
    return ns


class Persistent:
    """Pickles exactly as NVIDIA's persistent_class instances do."""

    def __init__(self, reconstruct, class_name, params=None, modules=None, kwargs=None, src=""):
        self.reconstruct, self.class_name, self.src = reconstruct, class_name, src
        self.state = {
            "training": False,
            "_parameters": OrderedDict(
                (k, torch.nn.Parameter(v.clone())) for k, v in (params or {}).items()
            ),
            "_buffers": OrderedDict(),
            "_non_persistent_buffers_set": set(),
            "_modules": OrderedDict(modules or {}),
            "_forward_hooks": OrderedDict(),
            "_init_args": (),
            "_init_kwargs": kwargs or {},
        }

    def add_buffer(self, name, value):
        self.state["_buffers"][name] = value.clone()
        return self

    def __reduce__(self):
        meta = {
            "type": "class",
            "version": 6,
            "module_src": self.src,
            "class_name": self.class_name,
            "state": self.state,
        }
        return (self.reconstruct, (meta,))


# ---- writers (canonical rosinality tensors -> each format) ------------------------------------


def write_rosinality(sd, path, *, training=False):
    g_ema = {k: v for k, v in sd.items() if k != "mean_w"}
    if training:
        args = argparse.Namespace(size=32, latent=32, n_mlp=2, channel_multiplier=2, lr=0.002)
        ckpt = {
            "g": g_ema,
            "d": {"convs.0.0.weight": torch.zeros(2)},
            "g_ema": g_ema,
            "g_optim": {"state": {}, "param_groups": []},
            "args": args,
        }
    else:
        ckpt = {"g_ema": g_ema, "latent_avg": sd["mean_w"]}
    torch.save(ckpt, path)


def _nv_layer(sd, ro, *, rgb=False):
    params = {
        "weight": sd[f"{ro}.conv.weight"][0],
        "bias": sd[f"{ro}.bias"].reshape(-1) if rgb else sd[f"{ro}.activate.bias"],
    }
    if not rgb:
        params["noise_strength"] = sd[f"{ro}.noise.weight"].reshape(())
    return params, {
        "affine.weight": sd[f"{ro}.conv.modulation.weight"],
        "affine.bias": sd[f"{ro}.conv.modulation.bias"],
    }


def write_nvidia(sd, path, fake, *, src=""):
    rec = fake.reconstruct

    def layer(ro, cls, noise=None, rgb=False):
        params, affine = _nv_layer(sd, ro, rgb=rgb)
        aff = Persistent(
            rec,
            "FullyConnectedLayer",
            {"weight": affine["affine.weight"], "bias": affine["affine.bias"]},
            src=src,
        )
        node = Persistent(rec, cls, params, {"affine": aff}, src=src)
        if noise is not None:
            node.add_buffer("noise_const", sd[noise][0, 0])
        return node

    n_mlp = sum(1 for k in sd if k.startswith("style.") and k.endswith(".weight"))
    fcs = {
        f"fc{i}": Persistent(
            rec,
            "FullyConnectedLayer",
            {"weight": sd[f"style.{i + 1}.weight"], "bias": sd[f"style.{i + 1}.bias"]},
        )
        for i in range(n_mlp)
    }
    mapping = Persistent(rec, "MappingNetwork", modules=fcs, kwargs={"lr_multiplier": 0.01})
    mapping.add_buffer("w_avg", sd["mean_w"])
    b4 = Persistent(
        rec,
        "SynthesisBlock",
        {"const": sd["input.input"][0]},
        {
            "conv1": layer("conv1", "SynthesisLayer", "noises.noise_0"),
            "torgb": layer("to_rgb1", "ToRGBLayer", rgb=True),
        },
    )
    blocks = {"b4": b4}
    i = 1
    while f"to_rgbs.{i - 1}.bias" in sd:
        blocks[f"b{4 * 2**i}"] = Persistent(
            rec,
            "SynthesisBlock",
            modules={
                "conv0": layer(f"convs.{2 * i - 2}", "SynthesisLayer", f"noises.noise_{2 * i - 1}"),
                "conv1": layer(f"convs.{2 * i - 1}", "SynthesisLayer", f"noises.noise_{2 * i}"),
                "torgb": layer(f"to_rgbs.{i - 1}", "ToRGBLayer", rgb=True),
            },
        ).add_buffer("resample_filter", torch.ones(4, 4) / 16)
        i += 1
    synthesis = Persistent(rec, "SynthesisNetwork", modules=blocks)
    kwargs = {
        "z_dim": 32,
        "c_dim": 0,
        "w_dim": 32,
        "img_resolution": 32,
        "img_channels": 3,
        "mapping_kwargs": fake.EasyDict(num_layers=n_mlp),
    }
    g = Persistent(
        rec,
        "Generator",
        modules={"mapping": mapping, "synthesis": synthesis},
        kwargs=kwargs,
        src=src,
    )
    data = {
        "G": g,
        "D": Persistent(rec, "Discriminator"),
        "G_ema": g,
        "augment_pipe": None,
        "training_set_kwargs": fake.EasyDict(path="data.zip", resolution=32),
    }
    with open(path, "wb") as f:
        pickle.dump(data, f, protocol=4)


def _tf_layer(sd, ro, tf, *, flip=False, rgb=False):
    weight = sd[f"{ro}.conv.weight"][0].numpy().transpose(2, 3, 1, 0)  # OIHW -> HWIO
    if flip:
        weight = weight[::-1, ::-1]
    out = {
        f"{tf}/weight": np.ascontiguousarray(weight),
        f"{tf}/mod_weight": sd[f"{ro}.conv.modulation.weight"].numpy().T.copy(),
        f"{tf}/mod_bias": sd[f"{ro}.conv.modulation.bias"].numpy() - 1,
    }
    if rgb:
        out[f"{tf}/bias"] = sd[f"{ro}.bias"].numpy().reshape(-1)
    else:
        out[f"{tf}/bias"] = sd[f"{ro}.activate.bias"].numpy()
        out[f"{tf}/noise_strength"] = np.float32(sd[f"{ro}.noise.weight"].item())
    return out


def write_tensorflow(sd, path, fake):
    n_mlp = sum(1 for k in sd if k.startswith("style.") and k.endswith(".weight"))
    mapping = {}
    for i in range(n_mlp):
        mapping[f"Dense{i}/weight"] = sd[f"style.{i + 1}.weight"].numpy().T.copy()
        mapping[f"Dense{i}/bias"] = sd[f"style.{i + 1}.bias"].numpy()
    synth = {"4x4/Const/const": sd["input.input"].numpy()}
    synth.update(_tf_layer(sd, "conv1", "4x4/Conv"))
    synth.update(_tf_layer(sd, "to_rgb1", "4x4/ToRGB", rgb=True))
    i = 1
    while f"to_rgbs.{i - 1}.bias" in sd:
        r = f"{4 * 2**i}x{4 * 2**i}"
        synth.update(_tf_layer(sd, f"convs.{2 * i - 2}", f"{r}/Conv0_up", flip=True))
        synth.update(_tf_layer(sd, f"convs.{2 * i - 1}", f"{r}/Conv1"))
        synth.update(_tf_layer(sd, f"to_rgbs.{i - 1}", f"{r}/ToRGB", rgb=True))
        i += 1
    for n in range(2 * i - 1):
        synth[f"noise{n}"] = sd[f"noises.noise_{n}"].numpy()
    synth["lod"] = np.float32(0)

    def net(name, variables, components=None, kwargs=None):
        return fake.Network(
            {
                "version": 4,
                "name": name,
                "static_kwargs": kwargs or {},
                "components": components or {},
                "build_module_src": EVIL_SRC.format("tf_pwned"),
                "build_func_name": "G_main",
                "variables": list(variables.items()),
            }
        )

    gs = net(
        "G",
        {"dlatent_avg": sd["mean_w"].numpy()},
        {"mapping": net("G_mapping", mapping), "synthesis": net("G_synthesis", synth)},
        {"resolution": 32, "fmap_base": 16384, "mapping_lrmul": 0.01},
    )
    with open(path, "wb") as f:
        pickle.dump((net("G", {}), net("D", {}), gs), f, protocol=4)


# ---- tests ----------------------------------------------------------------------------------


def _image(generator, seed=3):
    z = torch.randn(2, generator.style_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return generator.synthesis(generator.w_plus(generator.mapping(z, 0.7)))


def test_every_format_gives_the_same_image(tmp_path, tiny_generator, tiny_config, fake_modules):
    sd = tiny_generator.state_dict()
    paths = {
        "rosinality": tmp_path / "g.pt",
        "nvidia": tmp_path / "network-snapshot.pkl",
        "tensorflow": tmp_path / "stylegan2-tf.pkl",
        "safetensors": tmp_path / "ours.safetensors",
    }
    write_rosinality(sd, paths["rosinality"])
    write_nvidia(sd, paths["nvidia"], fake_modules)
    write_tensorflow(sd, paths["tensorflow"], fake_modules)
    save_generator(tiny_generator, paths["safetensors"])
    fake_modules.hide()  # the reader must not need them
    want = _image(tiny_generator)
    for fmt, path in paths.items():
        loaded = read_checkpoint(path)
        assert loaded.format == fmt
        assert loaded.config.channel_table() == tiny_config.channel_table()
        assert (loaded.config.n_mlp, loaded.config.style_dim) == (2, 32)
        assert loaded.info["has_mean_w"]
        got = _image(load_generator(path))
        assert torch.allclose(got, want, atol=1e-5, rtol=0), (fmt, (got - want).abs().max())


def test_rosinality_training_file_with_args(tmp_path, tiny_generator):
    path = tmp_path / "010000.pt"
    write_rosinality(tiny_generator.state_dict(), path, training=True)
    loaded = read_checkpoint(path)
    assert loaded.info["source"] == "training file" and not loaded.info["has_mean_w"]
    assert loaded.info["args"]["n_mlp"] == 2
    assert "estimated" in loaded.info["mean_w"]
    g = load_generator(path)
    assert g.mean_w.abs().sum() > 0
    with torch.no_grad():
        w = g.w_plus(g.mapping(torch.randn(1, 32)))
        assert torch.allclose(g.synthesis(w), tiny_generator.synthesis(w), atol=1e-6)


def test_config_f_table_is_recognised(tmp_path):
    from soundedit.gan.stylegan2 import Generator, GeneratorConfig

    torch.manual_seed(0)
    g = Generator(GeneratorConfig(64, style_dim=8, n_mlp=1, channel_multiplier=1))
    torch.save({"g_ema": g.state_dict(), "latent_avg": torch.zeros(8)}, tmp_path / "cf.pt")
    loaded = read_checkpoint(tmp_path / "cf.pt")
    assert loaded.config.channels is None and loaded.config.channel_multiplier == 1
    summary = describe(loaded)
    assert summary["n_latent"] == 10 and summary["channels"][64] == 256


def test_nvidia_module_src_is_never_executed(tmp_path, tiny_generator, fake_modules):
    marker = tmp_path / "nv_pwned"
    path = tmp_path / "evil-src.pkl"
    write_nvidia(tiny_generator.state_dict(), path, fake_modules, src=EVIL_SRC.format(str(marker)))
    assert read_checkpoint(path).format == "nvidia"
    assert not marker.exists()


class _Evil:
    def __init__(self, call, arg):
        self.call, self.arg = call, arg

    def __reduce__(self):
        return (self.call, (self.arg,))


@pytest.mark.parametrize("kind", ["os.system", "builtins.exec", "subprocess"])
@pytest.mark.parametrize("container", ["pickle", "torch"])
def test_malicious_pickles_are_refused(tmp_path, kind, container):
    marker = tmp_path / "pwned"
    if kind == "os.system":
        payload = _Evil(os.system, f"touch {marker}")
    elif kind == "builtins.exec":
        payload = _Evil(exec, EVIL_SRC.format(str(marker)))
    else:
        import subprocess

        payload = _Evil(subprocess.call, ["touch", str(marker)])
    path = tmp_path / "evil.pkl"
    if container == "pickle":
        path.write_bytes(pickle.dumps({"G_ema": payload}, protocol=4))
    else:
        torch.save({"g_ema": {"style.1.weight": payload}}, path)
    with pytest.raises(CheckpointError, match="refused") as err:
        read_checkpoint(path)
    refused = {
        "os.system": ("system",),
        "builtins.exec": ("exec",),
        "subprocess": ("subprocess", "call"),
    }
    assert any(word in str(err.value) for word in refused[kind])
    assert not marker.exists()


def test_truncated_files_are_refused(tmp_path, tiny_generator, fake_modules):
    write_nvidia(tiny_generator.state_dict(), tmp_path / "full.pkl", fake_modules)
    write_rosinality(tiny_generator.state_dict(), tmp_path / "full.pt")
    for name in ("full.pkl", "full.pt"):
        data = (tmp_path / name).read_bytes()
        cut = tmp_path / f"cut-{name}"
        cut.write_bytes(data[: len(data) // 2])
        with pytest.raises(CheckpointError, match="truncated|damaged"):
            read_checkpoint(cut)


def test_unsupported_layouts(tmp_path, tiny_generator, fake_modules):
    torch.save({"model": {"fc.weight": torch.zeros(2, 2)}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="no g_ema"):
        read_checkpoint(tmp_path / "other.pt")
    sd = dict(tiny_generator.state_dict())
    sd["convs.0.conv.weight"] = sd["convs.0.conv.weight"][:, :, :3]  # wrong in-channels
    torch.save({"g_ema": sd}, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError, match="do not fit"):
        read_checkpoint(tmp_path / "bad.pt")
    (tmp_path / "text.pkl").write_text("hello")
    with pytest.raises(CheckpointError, match="damaged"):
        read_checkpoint(tmp_path / "text.pkl")
    (tmp_path / "list.pkl").write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(CheckpointError, match="not a StyleGAN2 layout"):
        read_checkpoint(tmp_path / "list.pkl")


def test_legacy_torch_format_and_bare_state_dict(tmp_path, tiny_generator):
    sd = {k: v for k, v in tiny_generator.state_dict().items() if k != "mean_w"}
    torch.save(
        {"g_ema": sd, "latent_avg": tiny_generator.mean_w},
        tmp_path / "old.pt",
        _use_new_zipfile_serialization=False,
    )
    torch.save(sd, tmp_path / "bare.pt")
    want = _image(tiny_generator)
    for name, source in (("old.pt", "converted"), ("bare.pt", "bare state dict")):
        loaded = read_checkpoint(tmp_path / name)
        assert loaded.format == "rosinality" and loaded.info["source"] == source
        if name == "old.pt":
            assert torch.allclose(_image(load_generator(tmp_path / name)), want, atol=1e-6)
