"""Source latents from files: every accepted layout, and the refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from soundedit.edit.latents import load_latent
from soundedit.errors import ConfigError

L, S = 6, 16


def write(path, value):
    if path.suffix == ".npy":
        np.save(path, value.numpy())
    elif path.suffix == ".safetensors":
        save_file({"w_plus": value.contiguous()}, str(path))
    else:
        torch.save(value, path)
    return path


@pytest.mark.parametrize("suffix", [".pt", ".npy", ".safetensors"])
@pytest.mark.parametrize("shape", [(S,), (1, S), (L, S), (1, L, S)])
def test_w_and_w_plus_load_in_every_format(tmp_path, suffix, shape):
    value = torch.randn(*shape)
    w_plus = load_latent(write(tmp_path / f"w{suffix}", value), n_latent=L, style_dim=S)
    assert w_plus.shape == (1, L, S) and w_plus.dtype == torch.float32
    if shape in [(S,), (1, S)]:  # W is repeated over the layers
        assert torch.equal(w_plus[0, 0], value.reshape(S)) and torch.equal(
            w_plus[0, -1], w_plus[0, 0]
        )
    else:
        assert torch.equal(w_plus.reshape(L, S), value.reshape(L, S))


def test_a_dict_with_a_latent_key_is_accepted(tmp_path):
    value = torch.randn(1, L, S)
    path = tmp_path / "w.pt"
    torch.save({"w_source": value, "note": "x"}, path)
    assert torch.equal(load_latent(path, n_latent=L, style_dim=S), value)


def test_nan_in_a_latent_is_refused(tmp_path):
    value = torch.randn(L, S)
    value[2, 3] = float("nan")
    with pytest.raises(ConfigError, match="NaN"):
        load_latent(write(tmp_path / "w.npy", value), n_latent=L, style_dim=S)


def test_a_latent_of_the_wrong_shape_names_the_accepted_ones(tmp_path):
    path = write(tmp_path / "w.pt", torch.randn(1, 14, 512))
    with pytest.raises(ConfigError, match=r"\[1, 14, 512\] does not fit.*\[1, 6, 16\]"):
        load_latent(path, n_latent=L, style_dim=S)


def test_unknown_suffix_missing_and_damaged_files_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_latent(tmp_path / "nope.pt", n_latent=L, style_dim=S)
    (tmp_path / "w.txt").write_text("1 2 3")
    with pytest.raises(ConfigError, match=r"\.pt, \.pth, \.npy, \.safetensors"):
        load_latent(tmp_path / "w.txt", n_latent=L, style_dim=S)
    (tmp_path / "w.npy").write_bytes(b"not numpy")
    with pytest.raises(ConfigError, match="could not be read"):
        load_latent(tmp_path / "w.npy", n_latent=L, style_dim=S)


def test_a_pickle_with_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "w.pt"
    torch.save({"w": torch.zeros(S), "evil": Evil()}, path)
    with pytest.raises(ConfigError, match="could not be read"):
        load_latent(path, n_latent=L, style_dim=S)
    assert not marker.exists()
