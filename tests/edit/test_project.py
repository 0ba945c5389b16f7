"""Projecting a photo into W+."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from soundedit.edit.optimize import source_from_seed, to_uint8
from soundedit.edit.project import load_image, project_image
from soundedit.errors import ConfigError


def test_projection_reconstructs_a_generated_image(tiny_bundle, tmp_path):
    G = tiny_bundle.generator
    with torch.no_grad():
        photo = to_uint8(G.synthesis(source_from_seed(G, 5, 1.0)))
    path = tmp_path / "photo.png"
    Image.fromarray(photo).resize((40, 32)).save(path)  # not square, not the generator's size
    w, report = project_image(tiny_bundle, path, steps=60)
    assert w.shape == (1, 6, 16) and not w.requires_grad
    target = load_image(path, 16)
    with torch.no_grad():
        start_mse = float(
            ((G.synthesis(G.mean_w.reshape(1, 1, -1).repeat(1, 6, 1)) - target) ** 2).mean()
        )
    assert report["mse"] < 0.5 * start_mse
    assert report["psnr_db"] > 0 and -1 <= report["clip_similarity"] <= 1
    assert set(report) >= {"steps", "mse", "psnr_db", "clip_similarity", "seconds"}


def test_load_image_accepts_arrays_and_crops_the_centre():
    array = np.zeros((20, 40, 3), dtype=np.uint8)
    array[:, 10:30] = 255  # the centre square is white
    image = load_image(array, 8)
    assert image.shape == (1, 3, 8, 8) and image.min() > 0.9


def test_a_file_that_is_not_an_image_is_refused(tiny_bundle, tmp_path):
    path = tmp_path / "photo.png"
    path.write_bytes(b"RIFF....WAVEfmt definitely not a picture")
    with pytest.raises(ConfigError, match="not an image"):
        project_image(tiny_bundle, path, steps=5)
    with pytest.raises(ConfigError, match="does not exist"):
        project_image(tiny_bundle, tmp_path / "missing.jpg", steps=5)
    with pytest.raises(ConfigError, match="projection steps"):
        project_image(tiny_bundle, path, steps=0)
