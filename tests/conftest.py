"""Suite-wide fixtures and marker handling, and the one tiny test bundle.

The tiny bundle is built from the library's own classes at toy sizes: a 16 px StyleGAN2 (6 W+
layers, style 16), a tiny open_clip model from a config dict (embedding 16) and a small-CNN audio
encoder on the SoundScapes front end (plus, for faces, a stand-in identity model: IR-SE50 is far
too big). Everything runs on the CPU in milliseconds per step. Area fixtures (sound corpora,
tiny generators of other sizes) live in ``tests/<area>/conftest.py``.
"""

from __future__ import annotations

import shutil

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from soundedit.bundle import Bundle, clear_cache, register_bundle
from soundedit.settings import EditConfig

TINY = "tiny"  # the name the tiny bundle is registered under (library, CLI, app)
STYLE_DIM = 16
EMBED_DIM = 16
TINY_CLIP = {
    "embed_dim": EMBED_DIM,
    "vision_cfg": {"image_size": 16, "layers": 1, "width": 32, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}
TINY_DEFAULTS = EditConfig(steps=12, lr=0.1, preview_every=3, truncation=0.7)  # a second an edit


def pytest_collection_modifyitems(config, items):
    skip_gpu = pytest.mark.skip(reason="needs CUDA")
    skip_browser = pytest.mark.skip(reason="needs Debian's chromium (installed by .ci/run)")
    has_cuda = torch.cuda.is_available()
    has_chromium = shutil.which("chromium") is not None
    for item in items:
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(skip_gpu)
        if "browser" in item.keywords and not has_chromium:
            item.add_marker(skip_browser)


def make_generator(seed: int = 0):
    """A seeded 16 px StyleGAN2 with its mean w computed."""
    from soundedit.gan.stylegan2 import Generator, GeneratorConfig

    torch.manual_seed(seed)
    config = GeneratorConfig(
        resolution=16, style_dim=STYLE_DIM, n_mlp=2, channels={4: 16, 8: 16, 16: 8}
    )
    generator = Generator(config).eval()
    generator.compute_mean_w(512, torch.Generator().manual_seed(seed))
    return generator


def make_clip(seed: int = 0):
    from soundedit.encoders.clip import ClipBridge

    torch.manual_seed(seed)
    return ClipBridge.from_config(TINY_CLIP).eval()


def make_audio_encoder(seed: int = 0):
    from soundedit.encoders.audio import AudioEncoder, AudioEncoderConfig

    torch.manual_seed(seed)
    config = AudioEncoderConfig(
        backbone="small_cnn", embed_dim=EMBED_DIM, front_end="soundscapes", widths=(8, 16)
    )
    return AudioEncoder(config).eval()


class ToyIdentity(nn.Module):
    """An identity-model stand-in: embed(images) -> unit [B, 8]."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(3 * 4 * 4, 8)

    def embed(self, images):
        return F.normalize(self.proj(F.adaptive_avg_pool2d(images, 4).flatten(1)), dim=-1)


def make_tiny_bundle(
    name: str = TINY,
    *,
    audio: bool = True,
    identity: bool = False,
    defaults: EditConfig = TINY_DEFAULTS,
) -> Bundle:
    """A seeded tiny bundle (CPU, eval mode); ``audio`` gives it the small-CNN audio encoder."""
    torch.manual_seed(0)
    return Bundle(
        name=name,
        generator=make_generator(),
        clip=make_clip(),
        audio_encoder=make_audio_encoder() if audio else None,
        identity=ToyIdentity().eval() if identity else None,
        defaults=defaults,
    )


@pytest.fixture(scope="session")
def make_bundle():
    """The tiny-bundle factory, for variants (identity model, name, defaults)."""
    return make_tiny_bundle


@pytest.fixture(scope="session")
def tiny_bundle() -> Bundle:
    """The tiny world, registered with the library under the name ``TINY``."""
    bundle = make_tiny_bundle()
    register_bundle(TINY, lambda device: bundle, title="Tiny test world", domain="test")
    yield bundle
    clear_cache(TINY)


@pytest.fixture(scope="session")
def tiny(tiny_bundle) -> str:
    """The registered name of the tiny world."""
    return TINY


@pytest.fixture
def torch_generator() -> torch.Generator:
    """A seeded CPU random generator: every test result is reproducible."""
    return torch.Generator().manual_seed(1234)
