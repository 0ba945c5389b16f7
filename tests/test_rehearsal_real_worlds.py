"""Full-size rehearsal of every real world: random weights, real sizes, real on-disk formats.

No real weights can be downloaded here, so this writes random-weight files exactly where and how
the real ones would be: a weights folder (``SOUNDEDIT_WEIGHTS``) holding each registry entry's
file under its registry name, in the registry's format, at full size:

- generators: FFHQ 1024 config-f rosinality ``.pt`` (``g_ema`` + ``latent_avg``), AFHQ-cat 512,
  LSUN car 512 and LSUN church 256 (rosinality), WikiArt 1024 as an original TensorFlow
  pickle ``(G, D, Gs)`` of ``dnnlib.tflib.network.Network`` (written with stand-in classes that
  are gone before anything is read);
- CLIP ViT-B/32 (quickgelu) as open_clip's ``.safetensors`` state dict, the authors' ResNet-18
  audio encoder state dict, and ArcFace IR-SE50 (``model_ir_se50.pth``).

The tensor layouts are written out from FORMATS.md, not from our own classes, so a name or shape
our readers get wrong at real size fails here. Every world then runs 2-step edits through the
CLI (``soundedit.cli.main``, in process so each world loads once) and through the app's Run
handler, checking image sizes, W+ shapes, the style mix and the report (see ``PLAN``: every
mode on each surface at least once; ``SOUNDEDIT_REHEARSAL=full`` runs every mode on both
surfaces in every world). What it costs: README, Development.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import re
import shutil
import subprocess
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from soundedit import bundle as bundles
from soundedit.cli import main as cli_main

pytestmark = pytest.mark.slow

STEPS = 2  # the first step of the authors' schedule has lr 0: the second one moves the latent
STYLE = 512
MODES = ("sound", "text", "mix", "blend")
TEXT = "a rainy day"
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class RealWorld:
    name: str  # registry name
    resolution: int  # output side in pixels
    format: str  # the registry's format: "rosinality" or "tf-pkl"
    mix_layer: int  # the registry's default crossover
    faces: bool = False  # identity loss (IR-SE50) on

    @property
    def n_latent(self) -> int:
        return 2 * int(math.log2(self.resolution)) - 2


WORLDS = (
    RealWorld("lsun-church", 256, "rosinality", 7),
    RealWorld("afhq-cat", 512, "rosinality", 8),
    RealWorld("lsun-car", 512, "rosinality", 8),
    RealWorld("ffhq", 1024, "rosinality", 9, faces=True),
    RealWorld("wikiart", 1024, "tf-pkl", 9),
)
# Each world runs on both surfaces; together they run every mode on each surface, and the style
# mix at 14, 16 and 18 layers. SOUNDEDIT_REHEARSAL=full runs every mode on both, everywhere.
PLAN = {  # world -> (CLI modes, app modes)
    "lsun-church": (("mix",), ("text",)),
    "afhq-cat": (("blend",), ("mix",)),
    "lsun-car": (("text",), ("sound",)),
    "ffhq": (("mix",), ("blend",)),
    "wikiart": (("sound",), ("blend",)),
}


def planned_modes(world: RealWorld, surface: str) -> tuple[str, ...]:
    """The modes a world runs on a surface ("cli" or "app")."""
    if os.environ.get("SOUNDEDIT_REHEARSAL") == "full":
        return MODES
    cli, app = PLAN[world.name]
    return cli if surface == "cli" else app


# ---- layouts, written out from FORMATS.md ------------------------------------------------------


def config_f_channels(size: int) -> dict[int, int]:
    """Channels per resolution of config-f (channel multiplier 2)."""
    table = {4: 512, 8: 512, 16: 512, 32: 512, 64: 512, 128: 256, 256: 128, 512: 64, 1024: 32}
    return {res: c for res, c in table.items() if res <= size}


def _styled_conv(shapes: dict, name: str, cin: int, cout: int, *, up: bool = False) -> None:
    shapes[f"{name}.conv.weight"] = (1, cout, cin, 3, 3)
    shapes[f"{name}.conv.modulation.weight"] = (cin, STYLE)
    shapes[f"{name}.conv.modulation.bias"] = (cin,)
    shapes[f"{name}.noise.weight"] = (1,)
    shapes[f"{name}.activate.bias"] = (cout,)
    if up:
        shapes[f"{name}.conv.blur.kernel"] = (4, 4)


def _to_rgb(shapes: dict, name: str, cin: int, *, up: bool = False) -> None:
    shapes[f"{name}.conv.weight"] = (1, 3, cin, 1, 1)
    shapes[f"{name}.conv.modulation.weight"] = (cin, STYLE)
    shapes[f"{name}.conv.modulation.bias"] = (cin,)
    shapes[f"{name}.bias"] = (1, 3, 1, 1)
    if up:
        shapes[f"{name}.upsample.kernel"] = (4, 4)


def rosinality_layout(size: int, n_mlp: int = 8) -> dict[str, tuple[int, ...]]:
    """Every tensor of a rosinality config-f ``g_ema`` by name and shape."""
    ch = config_f_channels(size)
    shapes: dict[str, tuple[int, ...]] = {}
    for i in range(1, n_mlp + 1):
        shapes[f"style.{i}.weight"] = (STYLE, STYLE)
        shapes[f"style.{i}.bias"] = (STYLE,)
    shapes["input.input"] = (1, ch[4], 4, 4)
    _styled_conv(shapes, "conv1", ch[4], ch[4])
    _to_rgb(shapes, "to_rgb1", ch[4])
    for k, res in enumerate(r for r in ch if r > 4):
        _styled_conv(shapes, f"convs.{2 * k}", ch[res // 2], ch[res], up=True)
        _styled_conv(shapes, f"convs.{2 * k + 1}", ch[res], ch[res])
        _to_rgb(shapes, f"to_rgbs.{k}", ch[res], up=True)
    for i in range(2 * int(math.log2(size)) - 3):  # n_latent - 1 noise buffers
        r = 2 ** ((i + 5) // 2)
        shapes[f"noises.noise_{i}"] = (1, 1, r, r)
    return shapes


def random_g_ema(size: int, seed: int) -> dict[str, torch.Tensor]:
    """Random tensors for :func:`rosinality_layout`, initialised as rosinality's train.py does."""
    g = torch.Generator().manual_seed(seed)
    kernel = torch.tensor([1.0, 3.0, 3.0, 1.0])
    kernel = torch.outer(kernel, kernel)
    state = {}
    for name, shape in rosinality_layout(size).items():
        if name.endswith(".kernel"):
            state[name] = kernel / kernel.sum() * 4  # × upsampling factor²
        elif name.endswith("modulation.bias"):
            state[name] = torch.ones(shape)
        elif name.startswith("style.") and name.endswith(".weight"):
            state[name] = torch.randn(shape, generator=g) / 0.01  # lr_mul of the mapping
        elif name.endswith(("bias", "noise.weight")):
            state[name] = torch.zeros(shape)
        else:
            state[name] = torch.randn(shape, generator=g)
    return state


# ---- writers --------------------------------------------------------------------------------


def write_rosinality(path: Path, size: int, seed: int) -> None:
    """A converted rosinality file: ``g_ema`` and ``latent_avg``."""
    latent_avg = torch.randn(STYLE, generator=torch.Generator().manual_seed(seed)) * 0.1
    torch.save({"g_ema": random_g_ema(size, seed), "latent_avg": latent_avg}, path)


def _tf_layer(sd: dict, ro: str, *, flip: bool = False, rgb: bool = False) -> dict:
    weight = sd[f"{ro}.conv.weight"][0].numpy().transpose(2, 3, 1, 0)  # OIHW -> HWIO
    if flip:  # TF's Conv0_up is a transposed convolution: its kernel is stored flipped
        weight = weight[::-1, ::-1]
    out = {
        "weight": np.ascontiguousarray(weight),
        "mod_weight": sd[f"{ro}.conv.modulation.weight"].numpy().T.copy(),  # [S, in]
        "mod_bias": sd[f"{ro}.conv.modulation.bias"].numpy() - 1,  # TF adds 1 at run time
    }
    if rgb:
        out["bias"] = sd[f"{ro}.bias"].numpy().reshape(-1)
    else:
        out["bias"] = sd[f"{ro}.activate.bias"].numpy()
        out["noise_strength"] = np.float32(sd[f"{ro}.noise.weight"].item())
    return out


def tf_variables(size: int, seed: int) -> tuple[dict, dict]:
    """(G_mapping variables, G_synthesis variables) of a config-f TF generator."""
    sd = random_g_ema(size, seed)
    mapping = {}
    for i in range(8):
        mapping[f"Dense{i}/weight"] = sd[f"style.{i + 1}.weight"].numpy().T.copy()  # [in, out]
        mapping[f"Dense{i}/bias"] = sd[f"style.{i + 1}.bias"].numpy()
    layers = {
        "4x4/Const/const": {"": sd["input.input"].numpy()},
        "4x4/Conv": _tf_layer(sd, "conv1"),
        "4x4/ToRGB": _tf_layer(sd, "to_rgb1", rgb=True),
    }
    for k, res in enumerate(r for r in config_f_channels(size) if r > 4):
        layers[f"{res}x{res}/Conv0_up"] = _tf_layer(sd, f"convs.{2 * k}", flip=True)
        layers[f"{res}x{res}/Conv1"] = _tf_layer(sd, f"convs.{2 * k + 1}")
        layers[f"{res}x{res}/ToRGB"] = _tf_layer(sd, f"to_rgbs.{k}", rgb=True)
    synthesis = {
        f"{scope}/{var}" if var else scope: value
        for scope, variables in layers.items()
        for var, value in variables.items()
    }
    for name, value in sd.items():
        if name.startswith("noises.noise_"):
            synthesis[f"noise{name.rsplit('_', 1)[1]}"] = value.numpy()
    synthesis["lod"] = np.float32(0)
    return mapping, synthesis


def write_tf_pickle(path: Path, size: int, seed: int) -> None:
    """The original TF pickle ``(G, D, Gs)`` of ``dnnlib.tflib.network.Network`` objects.

    The stand-in Network class exists only while pickling; Gs carries the weights (G and D are
    left without variables to save disk).
    """

    class Network:
        def __init__(self, name, variables, components=None, kwargs=None):
            self.state = {
                "version": 4,
                "name": name,
                "static_kwargs": kwargs or {},
                "components": components or {},
                "build_module_src": "raise RuntimeError('never run')",
                "build_func_name": name,
                "variables": list(variables.items()),
            }

        def __getstate__(self):
            return self.state

    Network.__module__, Network.__qualname__ = "dnnlib.tflib.network", "Network"
    modules = {n: types.ModuleType(n) for n in ("dnnlib", "dnnlib.tflib", "dnnlib.tflib.network")}
    modules["dnnlib.tflib.network"].Network = Network
    mapping, synthesis = tf_variables(size, seed)
    kwargs = {"num_channels": 3, "resolution": size, "label_size": 0, "fmap_base": 16384}
    gs = Network(
        "G",
        {"dlatent_avg": np.random.default_rng(seed).standard_normal(STYLE).astype(np.float32)},
        {"mapping": Network("G_mapping", mapping), "synthesis": Network("G_synthesis", synthesis)},
        kwargs,
    )
    with pytest.MonkeyPatch.context() as mp:
        for name, module in modules.items():
            mp.setitem(sys.modules, name, module)
        with open(path, "wb") as f:
            pickle.dump((Network("G", {}), Network("D", {}), gs), f, protocol=4)


def write_clip(path: Path) -> None:
    """CLIP ViT-B/32 as open_clip's safetensors state dict (what the HF mirror holds)."""
    import open_clip
    from safetensors.torch import save_file

    torch.manual_seed(0)
    model = open_clip.create_model("ViT-B-32-quickgelu", pretrained=None)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))


def write_authors_audio_encoder(path: Path) -> None:
    """The authors' encoder state dict: ``conv`` (1 -> 3, 3×3) + timm resnet18 with 512 outputs."""
    import timm

    torch.manual_seed(0)
    model = torch.nn.Module()
    model.conv = torch.nn.Conv2d(1, 3, kernel_size=3)
    model.feature_extractor = timm.create_model("resnet18", pretrained=False, num_classes=512)
    torch.save(model.state_dict(), path)


def write_ir_se50(path: Path) -> None:
    from tests.encoders.test_identity import random_ir_se50_state

    torch.save(random_ir_se50_state(), path)


def write_sound(path: Path, seconds: float = 3.0, rate: int = 44_100) -> Path:
    import soundfile

    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(0).standard_normal(t.size)
    samples = 0.2 * noise + 0.3 * np.sin(2 * np.pi * 440 * t)
    soundfile.write(str(path), (samples / 2).astype(np.float32), rate, subtype="PCM_16")
    return path


# ---- fixtures --------------------------------------------------------------------------------


def _registry():
    from soundedit.hub import load_registry

    return load_registry(REPO / "weights" / "registry.toml")


def write_unverified_registry(folder: Path) -> None:
    """The project's registry without its sha256s, in ``folder`` (where the hub looks first).

    The rehearsal's files are random stand-ins under the real names: against the published
    sha256s every one of them would (rightly) be refused.
    """
    text = (REPO / "weights" / "registry.toml").read_text(encoding="utf-8")
    text, count = re.subn(r'(?m)^sha256 = "[0-9a-f]{64}"$', 'sha256 = ""', text)
    assert count > 0  # the project's registry records published checksums
    (folder / "registry.toml").write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory):
    """A weights folder with the shared encoders, set as SOUNDEDIT_WEIGHTS (offline)."""
    folder = tmp_path_factory.mktemp("real-weights")
    write_unverified_registry(folder)
    registry = _registry()
    write_clip(folder / registry["clip-vit-b-32"].filename)
    write_authors_audio_encoder(folder / registry["audio-encoder"].filename)
    write_ir_se50(folder / registry["ir-se50"].filename)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOUNDEDIT_WEIGHTS", str(folder))
        mp.setenv("SOUNDEDIT_OFFLINE", "1")
        mp.delenv("SOUNDEDIT_REGISTRY", raising=False)
        yield folder
    shutil.rmtree(folder, ignore_errors=True)  # about 1 GB: not left for pytest to keep


@pytest.fixture(scope="module", params=WORLDS, ids=lambda w: w.name)
def world(request, weights_dir):
    """One world's generator file written in place; its bundle is forgotten afterwards."""
    world = request.param
    path = weights_dir / _registry()[world.name].filename
    seed = WORLDS.index(world)
    if world.format == "rosinality":
        write_rosinality(path, world.resolution, seed)
    else:
        write_tf_pickle(path, world.resolution, seed)
    yield world
    bundles.clear_cache(world.name)
    path.unlink()


@pytest.fixture(scope="module")
def sound(tmp_path_factory) -> str:
    return str(write_sound(tmp_path_factory.mktemp("sound") / "rain.wav"))


# ---- checks ---------------------------------------------------------------------------------


def check_image(image, world: RealWorld) -> None:
    array = np.asarray(image)
    assert array.shape == (world.resolution, world.resolution, 3) and array.dtype == np.uint8


def is_skip(value) -> bool:
    import gradio as gr

    return isinstance(value, dict) and value == gr.skip()


def page_values(outputs: dict) -> dict:
    """The values a page update sets: an update's own value (one that only shows or hides a
    box sets none), a plain value as it is; skips set nothing."""
    values = {}
    for key, value in outputs.items():
        if isinstance(value, dict) and value.get("__type__") == "update":
            if "value" not in value:
                continue
            value = value["value"]
        if not is_skip(value):
            values[key] = value
    return values


def check_on_screen(image, world: RealWorld) -> None:
    """A page picture: the world's image enlarged pixel for pixel to about SCREEN_SIZE."""
    from demo.results import SCREEN_SIZE

    k = max(1, SCREEN_SIZE // world.resolution)
    array = np.asarray(image)
    assert array.shape[:2] == (world.resolution * k,) * 2
    check_image(array[::k, ::k], world)


def check_latents(latents: dict[str, torch.Tensor], world: RealWorld, mode: str) -> None:
    for name, w in latents.items():
        assert tuple(w.shape) == (1, world.n_latent, STYLE), name
        assert torch.isfinite(w).all(), name
    edited = [k for k in latents if k not in ("source", "mixed")]
    assert edited and all(not torch.equal(latents[k], latents["source"]) for k in edited)
    if mode == "mix":
        k = world.mix_layer
        assert torch.equal(latents["mixed"][:, :k], latents["sound"][:, :k])
        assert torch.equal(latents["mixed"][:, k:], latents["text"][:, k:])


def check_report(report: dict, world: RealWorld, mode: str) -> None:
    assert report["generator"] == world.name and report["mode"] == mode
    assert report["resolution"] == world.resolution and report["steps"] == STEPS
    assert report["settings"]["mix_layer"] == world.mix_layer
    phases = {"mix": {"sound", "text"}, "text": {"text"}}.get(mode, {"sound"})
    assert set(report["phases"]) == phases
    for phase in report["phases"].values():
        assert all(math.isfinite(phase[k]) for k in ("similarity_before", "similarity_after"))
        assert len(phase["layer_mask"]) == world.n_latent
        assert ("identity" in phase["losses"]) == world.faces
        assert all(math.isfinite(v) for v in phase["losses"].values())
    assert (report["sound_match"] is None) == (mode == "text")
    assert report["seconds_per_step"] > 0 and report["device"] == "cpu"


# ---- the rehearsal ----------------------------------------------------------------------------


def test_the_plan_covers_every_mode_and_layer_count():
    for surface in ("cli", "app"):
        assert {m for w in WORLDS for m in planned_modes(w, surface)} == set(MODES)
    mixed = {w.n_latent for w in WORLDS for s in ("cli", "app") if "mix" in planned_modes(w, s)}
    assert mixed == {14, 16, 18}


def test_registry_formats_match_the_rehearsal():
    registry = _registry()
    for world in WORLDS:
        entry = registry[world.name]
        assert (entry.format, entry.resolution) == (world.format, world.resolution)
        assert entry.defaults["mix_layer"] == world.mix_layer
        assert (float(entry.defaults["lambda_id"]) > 0) == world.faces


def test_every_file_is_found_where_the_registry_says(world, weights_dir, capsys):
    command = ["models", "--json"]
    if world == WORLDS[0]:  # once in a fresh process: SOUNDEDIT_WEIGHTS is read from there
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        out = subprocess.run(
            [sys.executable, "-m", "soundedit", *command],
            capture_output=True, text=True, env=env, cwd=REPO, timeout=600, check=True,
        ).stdout  # fmt: skip
    else:
        assert cli_main(command) == 0
        out = capsys.readouterr().out
    listed = {row["name"]: row for row in json.loads(out)}
    for name in (world.name, "clip-vit-b-32", "audio-encoder", "ir-se50"):
        assert listed[name]["status"] == "cached", listed[name]
        assert Path(listed[name]["path"]).parent == weights_dir


def test_inspect_reads_the_real_layout(world, weights_dir, capsys):
    path = weights_dir / _registry()[world.name].filename
    assert cli_main(["inspect", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    want = {"rosinality": "rosinality", "tf-pkl": "tensorflow"}[world.format]
    assert summary["format"] == want and summary["has_mean_w"]
    assert (summary["resolution"], summary["n_latent"], summary["n_mlp"]) == (
        world.resolution,
        world.n_latent,
        8,
    )
    assert summary["channel_multiplier"] == 2


def test_cli_edits(world, sound, tmp_path):
    from safetensors.torch import load_file

    for mode in planned_modes(world, "cli"):
        out = tmp_path / mode
        args = ["edit", "--generator", world.name, "--mode", mode, "--steps", str(STEPS)]
        args += ["--seed", "3", "--out", str(out)]
        args += ["--text", TEXT] if mode != "sound" else []
        args += ["--audio", sound] if mode != "text" else []
        assert cli_main(args) == 0, mode
        from PIL import Image

        pngs = {"mix": ("source", "edited", "text", "mixed")}.get(mode, ("source", "edited"))
        assert sorted(p.stem for p in out.glob("*.png")) == sorted(pngs)
        for name in pngs:
            with Image.open(out / f"{name}.png") as image:
                assert image.size == (world.resolution, world.resolution), (mode, name)
                check_image(image.convert("RGB"), world)
        stored = load_file(str(out / "latents.safetensors"))
        keys = {"w_source": "source", "w_edited": "text" if mode == "text" else "sound"}
        keys.update({"w_text": "text", "w_mixed": "mixed"} if mode == "mix" else {})
        assert set(stored) == set(keys)
        check_latents({keys[k]: v for k, v in stored.items()}, world, mode)
        check_report(json.loads((out / "report.json").read_text()), world, mode)


def test_app_edits(world, sound, tmp_path):
    from demo.handlers import RUN_OUTPUTS, WORLD_OUTPUTS, Handlers
    from demo.session import Sessions
    from demo.worlds import WorldCatalog

    handlers = Handlers(WorldCatalog(), Sessions(tmp_path / "sessions"))
    picked = dict(zip(WORLD_OUTPUTS, handlers.select_world(world.name), strict=True))
    assert "loaded, ready to edit" in picked["world_status"]
    assert picked["mix_layer"]["maximum"] == world.n_latent
    assert picked["mix_layer"]["value"] == world.mix_layer
    for mode in planned_modes(world, "app"):
        form = dict(
            sound=None if mode == "text" else sound, sound2=None, mix=0.5, gain_db=0.0,
            world=world.name, source="seed", seed=3, truncation=picked["truncation"],
            latent_file=None, photo=None, mode=mode, text=None if mode == "sound" else TEXT,
            mix_layer=world.mix_layer, blend=0.5, steps=STEPS, lr=picked["lr"],
            lambda_reg=picked["lambda_reg"], adaptive_mask=True, lambda_id=picked["lambda_id"],
            guidance=picked["guidance"], preview_every=STEPS,
        )  # fmt: skip
        views = list(handlers.run(form, request=SimpleNamespace(session_hash=mode)))
        view = {}  # what the page shows at the end: each output's last value that is no skip
        for values in views:
            view.update(page_values(dict(zip(RUN_OUTPUTS, values, strict=True))))
        shown = {"mix": ("source", "sound", "text", "mixed"), "text": ("source", "text")}
        for key in shown.get(mode, ("source", "sound")):
            check_on_screen(view[f"out_{key}"], world)
        check_on_screen(view["live"], world)
        check_on_screen(view["watch_source"], world)
        state = view["state"]
        assert state["world"] == world.name
        check_latents(state["latents"], world, mode)
        report = view["report"]
        check_report(report, world, mode)
        assert f"--generator {world.name}" in report["command"]
        assert f"--steps {STEPS}" in report["command"]
        files = {Path(f).name for f in view["files"]}
        assert {"source.png", "latents.safetensors", "report.json", "trajectory.gif"} <= files
        check_on_screen(handlers.interpolate(state, 0.5), world)
