"""The encoders on CUDA agree with CPU (skipped without a GPU)."""

from __future__ import annotations

import pytest
import torch

from soundedit.encoders.audio import AudioEncoder, AudioEncoderConfig
from soundedit.encoders.identity import IRSE50, IdentityModel

pytestmark = pytest.mark.gpu


def test_clip_bridge_on_cuda(tiny_clip, images):
    expected = tiny_clip.embed_image(images)
    bridge = tiny_clip.to("cuda")
    try:
        got = bridge.embed_image(images.cuda())
        torch.testing.assert_close(got.cpu(), expected, rtol=1e-3, atol=1e-3)
        assert bridge.embed_text(["rain"]).device.type == "cuda"
        with torch.autocast("cuda", dtype=torch.bfloat16):
            assert bridge.embed_image(images.cuda()).dtype == torch.float32
    finally:
        tiny_clip.to("cpu")


def test_audio_and_identity_on_cuda():
    torch.manual_seed(0)
    encoder = AudioEncoder(AudioEncoderConfig(backbone="resnet18", embed_dim=32)).eval()
    x = torch.rand(1, 1, 64, 128)
    expected = encoder.embed(x)
    torch.testing.assert_close(encoder.cuda().embed(x.cuda()).cpu(), expected, rtol=1e-3, atol=1e-3)
    identity = IdentityModel(IRSE50(stages=(1, 1, 1, 1))).eval()
    faces = torch.rand(1, 3, 256, 256) * 2 - 1
    expected = identity.embed(faces)
    got = identity.cuda().embed(faces.cuda()).cpu()
    torch.testing.assert_close(got, expected, rtol=1e-3, atol=1e-3)
