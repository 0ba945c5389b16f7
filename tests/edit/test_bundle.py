"""Bundles: registration, the per-process cache, names, and the listing."""

from __future__ import annotations

import pytest

from soundedit import bundle as bundles
from soundedit.errors import ConfigError


@pytest.fixture
def registered(make_bundle):
    calls = []

    def loader(device):
        calls.append(device)
        return make_bundle(name="tiny-test")

    bundles.register_bundle("tiny-test", loader, title="Tiny", domain="toys")
    yield calls
    bundles._REGISTERED.pop("tiny-test", None)
    bundles.clear_cache("tiny-test")


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
    scapes = infos["soundscapes"]
    assert scapes.status in ("ready", "missing") and scapes.message
    assert registered == []  # listing loads nothing


def test_bundle_properties(make_bundle):
    bundle = make_bundle()
    assert bundle.mix_layer == 3 and str(bundle.device) == "cpu"
    assert bundles.EditDefaults().lambda_reg == 0.008 and bundles.EditDefaults().steps == 300
