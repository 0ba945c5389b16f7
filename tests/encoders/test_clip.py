"""ClipBridge on a tiny open_clip model: embeddings, gradients, every way of loading weights."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
import torch

from soundedit.encoders.clip import ClipBridge
from soundedit.errors import CheckpointError, ConfigError
from soundedit.weights_io import save_weights
from tests.encoders.conftest import TINY_CLIP
from tests.tolerances import assert_unit


def test_properties(tiny_clip):
    assert tiny_clip.embed_dim == 16
    assert tiny_clip.image_size == 16
    assert tiny_clip.context_length == 16
    assert tiny_clip.logit_scale == pytest.approx(1 / 0.07, rel=1e-4)
    assert not any(p.requires_grad for p in tiny_clip.parameters())


def test_embed_image_is_unit_norm_and_differentiable(tiny_clip, images):
    images = images.clone().requires_grad_()
    emb = tiny_clip.embed_image(images)
    assert emb.shape == (2, 16)
    assert_unit(emb)
    emb[:, 0].sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0


def test_the_image_tower_runs_sequence_first_and_embeds_as_batch_first(tiny_clip, images):
    """The bridge runs open_clip's image transformer sequence-first (faster image gradients);
    the embedding and its gradient are those of the batch-first model up to float32 rounding."""
    tower = tiny_clip.model.visual.transformer
    assert not tower.batch_first
    assert not any(block.attn.batch_first for block in tower.resblocks)
    results = []
    for batch_first in (True, False):  # ends as the bridge runs it (a shared fixture)
        tower.batch_first = batch_first
        for block in tower.resblocks:
            block.attn.batch_first = batch_first
        x = images.clone().requires_grad_(True)
        embed = tiny_clip.embed_image(x)
        (grad,) = torch.autograd.grad(embed[:, 0].sum(), [x])
        results.append((embed.detach(), grad))
    (b, grad_b), (a, grad_a) = results
    assert torch.allclose(a, b, atol=1e-6, rtol=0)
    assert torch.allclose(grad_a, grad_b, atol=1e-6 * grad_b.abs().max().item(), rtol=1e-5)


def test_preprocess_uses_model_mean_std_and_resizes(tiny_clip):
    grey = torch.zeros(1, 3, 40, 40)  # 0 in [-1, 1] = 0.5 in [0, 1]
    x = tiny_clip.preprocess(grey)
    assert x.shape == (1, 3, 16, 16)
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073])
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711])
    torch.testing.assert_close(x[0, :, 0, 0], (0.5 - mean) / std)


def test_embed_text_is_deterministic_unit_norm(tiny_clip):
    a = tiny_clip.embed_text(["heavy rain over the hills", "a crackling fire"])
    b = tiny_clip.embed_text(["heavy rain over the hills", "a crackling fire"])
    assert a.shape == (2, 16) and not a.requires_grad
    torch.testing.assert_close(a, b)
    assert_unit(a)
    assert tiny_clip.embed_text("one").shape == (1, 16)


def test_fp16_pair_round_trip(tiny_clip, images, tmp_path):
    tensors = {k: v.half() for k, v in tiny_clip.model.state_dict().items()}
    save_weights(tmp_path / "clip", tensors, kind="open_clip", config=_Cfg(), meta={})
    expected = _reference_from_fp16(tiny_clip, tensors)

    for loaded in (
        ClipBridge.from_file(tmp_path / "clip.safetensors"),
        ClipBridge.from_config(tmp_path / "clip.json"),  # the record; weights beside it
        ClipBridge.from_config(TINY_CLIP, tmp_path / "clip.safetensors"),
    ):
        torch.testing.assert_close(loaded.embed_image(images), expected.embed_image(images))
        torch.testing.assert_close(loaded.embed_text(["rain"]), expected.embed_text(["rain"]))


@pytest.fixture(scope="module")
def tiny_arch(tmp_path_factory):
    """The tiny config as a named open_clip architecture (as a user adds one to open_clip)."""
    import open_clip

    path = tmp_path_factory.mktemp("arch") / "soundedit-tiny-arch.json"
    path.write_text(json.dumps(TINY_CLIP))
    open_clip.add_model_config(path)
    return path.stem


def test_a_config_builds_without_registering_anything():
    import open_clip

    before = set(open_clip.list_models())
    ClipBridge.from_config(TINY_CLIP)
    assert set(open_clip.list_models()) == before


def test_open_clip_state_dict_file_through_from_pretrained(tiny_clip, tiny_arch, images, tmp_path):
    path = tmp_path / "tiny_open_clip.pt"
    torch.save(tiny_clip.model.state_dict(), path)
    loaded = ClipBridge.from_pretrained(tiny_arch, path)
    torch.testing.assert_close(loaded.embed_image(images), tiny_clip.embed_image(images))
    via_file = ClipBridge.from_file(path, arch=tiny_arch)
    torch.testing.assert_close(via_file.embed_text(["x"]), tiny_clip.embed_text(["x"]))
    via_config = ClipBridge.from_config(TINY_CLIP, path)
    torch.testing.assert_close(via_config.embed_image(images), tiny_clip.embed_image(images))


def test_preprocess_cfg_wrapper_sets_mean_std():
    torch.manual_seed(0)
    wrapped = {"model_cfg": TINY_CLIP, "preprocess_cfg": {"mean": [0.5] * 3, "std": [0.5] * 3}}
    bridge = ClipBridge.from_config(wrapped)
    x = bridge.preprocess(torch.zeros(1, 3, 16, 16))
    torch.testing.assert_close(x, torch.zeros(1, 3, 16, 16))


def test_missing_head_width_gets_heads():
    cfg = json.loads(json.dumps(TINY_CLIP))
    del cfg["vision_cfg"]["head_width"]
    assert ClipBridge.from_config(cfg).embed_dim == 16


def test_errors(tiny_clip, tmp_path):
    with pytest.raises(ConfigError, match="vision_cfg"):
        ClipBridge.from_config({"embed_dim": 8})
    with pytest.raises(ConfigError, match="unknown open_clip architecture"):
        ClipBridge.from_pretrained("ViT-Nope", tmp_path / "x.pt")
    other = json.loads(json.dumps(TINY_CLIP))
    other["embed_dim"] = 8
    path = tmp_path / "wrong.pt"
    torch.save(tiny_clip.model.state_dict(), path)
    with pytest.raises(CheckpointError):
        ClipBridge.from_config(other, path)
    with pytest.raises(ValueError, match="B, 3, H, W"):
        tiny_clip.embed_image(torch.zeros(3, 16, 16))


@dataclass(frozen=True)
class _Cfg:
    """The open_clip model config as a dataclass, as the SoundScapes trainer stores it."""

    embed_dim: int = TINY_CLIP["embed_dim"]
    vision_cfg: dict = field(default_factory=lambda: dict(TINY_CLIP["vision_cfg"]))
    text_cfg: dict = field(default_factory=lambda: dict(TINY_CLIP["text_cfg"]))


def _reference_from_fp16(bridge, tensors):
    clone = ClipBridge.from_config(TINY_CLIP)
    clone.model.load_state_dict({k: v.float() for k, v in tensors.items()})
    return clone


def test_pretrained_tag_resolves_through_the_registry(
    tiny_clip, tiny_arch, images, tmp_path, monkeypatch
):
    weights = tmp_path / "weights"
    weights.mkdir()
    torch.save(tiny_clip.model.state_dict(), weights / "tiny-clip.pt")
    (weights / "registry.toml").write_text(
        "[models.tiny-clip]\n"
        'domain = "encoder"\nkind = "clip"\nformat = "open_clip"\n'
        'source = "hf://owner/repo/open_clip_model.safetensors"\nfilename = "tiny-clip.pt"\n'
        f'defaults = {{ arch = "{tiny_arch}", pretrained = "tinytag" }}\n'
    )
    monkeypatch.setenv("SOUNDEDIT_WEIGHTS", str(weights))
    monkeypatch.delenv("SOUNDEDIT_REGISTRY", raising=False)
    loaded = ClipBridge.from_pretrained(tiny_arch, "tinytag")
    torch.testing.assert_close(loaded.embed_image(images), tiny_clip.embed_image(images))
    with pytest.raises(ConfigError, match="known tags: tinytag"):
        ClipBridge.from_pretrained(tiny_arch, "laion2b")
    by_name = ClipBridge.from_file("tiny-clip")
    torch.testing.assert_close(by_name.embed_text(["x"]), tiny_clip.embed_text(["x"]))
    with pytest.raises(CheckpointError, match="neither a file nor a CLIP entry"):
        ClipBridge.from_file("no-such-clip")
    with pytest.raises(CheckpointError, match="do not exist"):
        ClipBridge.from_config(TINY_CLIP, weights / "absent.safetensors")
