"""Audio encoders: backbones and stems, the authors' state-dict layout, our safetensors pair."""

from __future__ import annotations

import types

import numpy as np
import pytest
import torch
from torch import nn

import soundedit.encoders.audio as audio_encoders
from soundedit.encoders.audio import (
    AudioEncoder,
    AudioEncoderConfig,
    embed_sound,
    load_audio_encoder,
    load_authors_checkpoint,
    save_audio_encoder,
)
from soundedit.errors import CheckpointError, ConfigError
from tests.tolerances import assert_unit

SMALL = AudioEncoderConfig(
    backbone="small_cnn", embed_dim=16, front_end="soundscapes", widths=(8, 16)
)


def _features(seed: int, h: int = 32, w: int = 64) -> torch.Tensor:
    return torch.rand(2, 1, h, w, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("stem", ["conv3x3", "timm1"])
def test_small_cnn_stems(stem):
    torch.manual_seed(0)
    encoder = AudioEncoder(AudioEncoderConfig(**{**_as_dict(SMALL), "stem": stem})).eval()
    raw = encoder(_features(1))
    assert raw.shape == (2, 16)
    assert (encoder.conv is None) == (stem == "timm1")
    assert_unit(encoder.embed(_features(1)))
    assert encoder(_features(1)[:, 0]).shape == (2, 16)  # [B, H, W] is accepted too


def test_timm1_resnet_takes_one_channel():
    torch.manual_seed(0)
    encoder = AudioEncoder(AudioEncoderConfig(backbone="resnet18", stem="timm1", embed_dim=8))
    assert encoder.feature_extractor.conv1.in_channels == 1
    assert encoder.eval()(_features(2)).shape == (2, 8)


class AuthorsAudioEncoder(nn.Module):
    """The authors' module layout, written independently of ours: conv stem + timm resnet18."""

    def __init__(self):
        super().__init__()
        import timm

        self.conv = nn.Conv2d(1, 3, (3, 3))
        self.feature_extractor = timm.create_model("resnet18", num_classes=512, pretrained=False)

    def forward(self, x):
        return self.feature_extractor(self.conv(x))


@pytest.fixture(scope="module")
def authors_file(tmp_path_factory):
    """A state dict in the authors' layout, saved from DataParallel (keys start with module.)."""
    torch.manual_seed(5)
    reference = AuthorsAudioEncoder().eval()
    with torch.no_grad():  # non-trivial BN statistics so eval-mode differences would show
        for m in reference.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    path = tmp_path_factory.mktemp("authors") / "resnet18_57.pth"
    torch.save({f"module.{k}": v for k, v in reference.state_dict().items()}, path)
    return path, reference


def test_authors_checkpoint_loads_strictly(authors_file):
    path, reference = authors_file
    encoder = load_authors_checkpoint(path)
    assert encoder.config == AudioEncoderConfig(backbone="resnet18", stem="conv3x3")
    assert not encoder.training
    x = torch.rand(1, 1, 64, 128, generator=torch.Generator().manual_seed(0))
    first, second = encoder.embed(x), encoder.embed(x)
    assert first.shape == (1, 512)
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    with torch.no_grad():
        torch.testing.assert_close(encoder(x), reference(x))


def test_authors_checkpoint_mismatch_lists_keys(authors_file, tmp_path):
    path, _ = authors_file
    state = torch.load(path, weights_only=True)
    del state["module.conv.bias"]
    state["module.extra.weight"] = torch.zeros(1)
    broken = tmp_path / "broken.pth"
    torch.save(state, broken)
    with pytest.raises(CheckpointError, match=r"missing: conv\.bias.*unexpected: extra\.weight"):
        load_authors_checkpoint(broken)


def test_authors_checkpoint_refuses_pickled_objects(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"conv.weight": torch.zeros(1), "obj": types.SimpleNamespace(a=1)}, path)
    with pytest.raises(CheckpointError, match="not a readable"):
        load_authors_checkpoint(path)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_authors_checkpoint(tmp_path / "absent.pth")


def test_pair_round_trip_and_kind(tmp_path):
    torch.manual_seed(0)
    encoder = AudioEncoder(SMALL).eval()
    save_audio_encoder(encoder, tmp_path / "audio_encoder", {"note": "test"})
    loaded = load_audio_encoder(tmp_path / "audio_encoder")
    assert loaded.config == SMALL
    torch.testing.assert_close(loaded(_features(3)), encoder(_features(3)), rtol=0, atol=0)
    with pytest.raises(CheckpointError, match="expected 'open_clip'"):
        from soundedit.weights_io import load_weights

        load_weights(tmp_path / "audio_encoder", kind="open_clip")
    other = AudioEncoder(AudioEncoderConfig(backbone="small_cnn", embed_dim=16, widths=(8,)))
    save_audio_encoder(other, tmp_path / "other")
    record = (tmp_path / "other.json").read_text().replace('[\n      8\n    ]', "[8, 16]")
    (tmp_path / "other.json").write_text(record)
    with pytest.raises(CheckpointError, match="missing"):
        load_audio_encoder(tmp_path / "other")


def test_config_errors():
    with pytest.raises(ConfigError, match="valid: resnet18"):
        AudioEncoder(AudioEncoderConfig(backbone="vgg"))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="stem"):
        AudioEncoder(AudioEncoderConfig(backbone="small_cnn", stem="x"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\[B, 1, H, W\]"):
        AudioEncoder(SMALL)(torch.zeros(2, 3, 8, 8))


def test_embed_sound_uses_front_end(monkeypatch):
    seen = {}

    def load_sound(source, *, rate=None, limits=None):
        seen["source"] = source
        return types.SimpleNamespace(samples=np.asarray(source[1], np.float32), rate=source[0])

    def compute_features(sound, front_end, *, rate=None):
        seen["front_end"] = front_end
        level = float(np.abs(sound.samples).mean())
        return torch.full((1, 32, 64), level) + torch.linspace(0, 1, 64)

    monkeypatch.setattr(audio_encoders, "load_sound", load_sound)
    monkeypatch.setattr(audio_encoders, "compute_features", compute_features)
    monkeypatch.setattr(audio_encoders, "get_front_end", lambda name: f"fe:{name}")
    torch.manual_seed(0)
    encoder = AudioEncoder(SMALL).train()
    sound = (16_000, np.full(1600, 0.25, np.float32))
    emb = embed_sound(encoder, sound)
    assert emb.shape == (1, 16) and encoder.training  # mode restored
    assert_unit(emb)
    torch.testing.assert_close(embed_sound(encoder, sound), emb)
    assert seen["front_end"] == "fe:soundscapes"


def _as_dict(config):
    from dataclasses import asdict

    return asdict(config)


def test_embed_sound_with_the_real_front_ends():
    pytest.importorskip("soundedit.audio.features")
    rate = 16_000
    t = np.arange(rate * 2) / rate
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    torch.manual_seed(0)
    small = AudioEncoder(SMALL).eval()
    emb = embed_sound(small, (rate, tone))
    assert emb.shape == (1, 16)
    torch.testing.assert_close(embed_sound(small, (rate, tone)), emb, rtol=0, atol=0)
    quiet = embed_sound(small, (rate, tone * 0.05))
    assert not torch.allclose(quiet, emb)  # the soundscapes front end keeps the level

    authors = AudioEncoder(AudioEncoderConfig(backbone="resnet18", front_end="soundclip")).eval()
    emb = embed_sound(authors, (rate, tone))
    assert emb.shape == (1, 512)
    assert_unit(emb)
