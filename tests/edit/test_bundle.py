"""Bundles: registration, the per-process cache, names, and the listing."""

from __future__ import annotations

import pytest
import torch

from soundedit import bundle as bundles
from soundedit.errors import ConfigError
from soundedit.hub import load_registry
from soundedit.settings import EditConfig


@pytest.fixture
def registered(make_bundle):
    calls = []

    def loader(device):
        calls.append(device)
        return make_bundle(name="tiny-test")

    bundles.register_bundle("tiny-test", loader, title="Tiny", domain="toys")
    yield calls
    bundles.unregister_bundle("tiny-test")


def test_load_bundle_is_cached_per_process_and_device(registered):
    a = bundles.load_bundle("tiny-test")
    assert bundles.load_bundle("tiny-test", device="cpu") is a
    assert registered == ["cpu"]
    bundles.clear_cache("tiny-test")
    assert bundles.load_bundle("tiny-test") is not a and registered == ["cpu", "cpu"]


def test_unknown_name_lists_the_valid_ones(registered):
    with pytest.raises(
        ConfigError, match=r"unknown generator 'ffhq-9000'; valid names: .*soundscapes"
    ):
        bundles.load_bundle("ffhq-9000")
    with pytest.raises(ConfigError, match="tiny-test"):
        bundles.load_bundle("ffhq-9000")
    assert "tiny-test" in bundles.bundle_names() and bundles.DEFAULT_BUNDLE == "soundscapes"


def test_list_bundles_reports_status_without_loading(registered):
    infos = {info.name: info for info in bundles.list_bundles()}
    assert infos["tiny-test"].status == "ready" and infos["tiny-test"].domain == "toys"
    scapes = infos["soundscapes"]  # the embedded world registered itself on import
    assert scapes.status in ("ready", "missing") and scapes.message
    assert not scapes.downloadable and infos["ffhq"].downloadable
    assert registered == []  # listing loads nothing


def test_bundle_properties(make_bundle):
    bundle = make_bundle()
    assert bundle.mix_layer == 3 and str(bundle.device) == "cpu"
    assert bundle.defaults.steps == 12 and EditConfig().lambda_reg == 0.008


def test_a_real_domain_offline_names_the_missing_file_and_folder(monkeypatch):
    from soundedit.errors import WeightsNotFoundError

    monkeypatch.setenv("SOUNDEDIT_OFFLINE", "1")
    bundles.clear_cache("lsun-church")
    with pytest.raises(WeightsNotFoundError, match=r"is not on this machine.*put it in"):
        bundles.load_bundle("lsun-church")
    info = {i.name: i for i in bundles.list_bundles()}
    if info["ffhq"].status == "missing":
        assert "stylegan2-ffhq-config-f.pt" in info["ffhq"].message
        assert "model_ir_se50.pth" in info["ffhq"].message  # faces need the identity model


def test_registry_defaults_become_edit_settings():
    ffhq = bundles.registry_defaults(load_registry()["ffhq"])
    assert ffhq.lambda_id == 0.004 and ffhq.mix_layer == 9 and ffhq.steps == 300
    for entry in load_registry().values():  # every generator's table is read strictly
        if entry.kind == bundles.GENERATOR_KIND:
            assert isinstance(bundles.registry_defaults(entry), EditConfig)


def test_an_unknown_registry_default_is_an_error_that_names_it():
    from soundedit.hub import RegistryEntry

    entry = RegistryEntry("x", "churches", "stylegan2", defaults={"stpes": 3})
    with pytest.raises(ConfigError, match=r"registry x.defaults: unknown setting\(s\) stpes"):
        bundles.registry_defaults(entry)


TINY_REGISTRY = """
[models.tiny-church]
domain = "churches"
kind = "stylegan2"
source = "hf://tests/tiny/church.pt"
[models.tiny-church.defaults]
steps = 7
lambda_reg = 0.002
[models.clip-x]
domain = "encoder"
kind = "clip"
source = "hf://tests/tiny/clip.pt"
[models.audio-x]
domain = "encoder"
kind = "audio_encoder"
source = "hf://tests/tiny/audio.pt"
"""


def test_a_registry_generator_loads_with_its_encoders(monkeypatch, tmp_path, make_bundle):
    from soundedit.gan.checkpoints import save_generator

    tiny = make_bundle()
    path = save_generator(tiny.generator, tmp_path / "tiny.safetensors", {})
    (tmp_path / "registry.toml").write_text(TINY_REGISTRY)
    monkeypatch.setenv("SOUNDEDIT_REGISTRY", str(tmp_path / "registry.toml"))
    resolved = []

    def resolve(name):
        resolved.append(name)
        return path if name == "tiny-church" else tmp_path / name

    monkeypatch.setattr("soundedit.hub.resolve", resolve)
    monkeypatch.setattr(
        "soundedit.encoders.clip.ClipBridge.from_pretrained", lambda *a, **k: tiny.clip
    )
    monkeypatch.setattr(
        "soundedit.bundle.load_authors_checkpoint", lambda p: tiny.audio_encoder
    )
    bundle = bundles.load_bundle("tiny-church")
    try:
        assert sorted(resolved) == ["audio-x", "clip-x", "tiny-church"]  # no identity model
        assert bundle.defaults.steps == 7 and bundle.generator.n_latent == 6
        w = tiny.generator.mean_w.reshape(1, 1, -1).repeat(1, 6, 1)
        assert torch.equal(bundle.generator.synthesis(w), tiny.generator.synthesis(w))
    finally:
        bundles.clear_cache("tiny-church")


def test_checkpoint_that_does_not_exist_is_refused():
    with pytest.raises(ConfigError, match="does not exist"):
        bundles.bundle_from_checkpoint("/nonexistent/generator.pt")
