"""SpecAugment: reproducible from a seed and within its limits."""

from __future__ import annotations

import pytest
import torch

from soundedit.audio.augment import spec_augment


def _masked_bands(out):
    """Rows (freq) and columns (time) that are entirely zero in a [F, T] ones-image."""
    return (out == 0).all(dim=1), (out == 0).all(dim=0)


def test_same_seed_same_masks():
    x = torch.rand(4, 1, 64, 251)
    a = spec_augment(x, generator=torch.Generator().manual_seed(7))
    b = spec_augment(x, generator=torch.Generator().manual_seed(7))
    c = spec_augment(x, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert x.min() > 0  # the input is unchanged


def test_masks_stay_within_limits():
    n_freq, n_time = 128, 512
    generator = torch.Generator().manual_seed(0)
    out = spec_augment(torch.ones(200, n_freq, n_time), generator=generator)
    widest_f = widest_t = 0
    for item in out:
        rows, cols = _masked_bands(item)
        # 2 masks of at most floor(0.15 F) and floor(0.30 T) each
        assert rows.sum() <= 2 * int(0.15 * n_freq)
        assert cols.sum() <= 2 * int(0.30 * n_time)
        unmasked = item[~rows][:, ~cols]
        assert torch.all(unmasked == 1)  # nothing else is touched
        widest_f, widest_t = max(widest_f, int(rows.sum())), max(widest_t, int(cols.sum()))
    assert widest_f > int(0.15 * n_freq) and widest_t > int(0.30 * n_time)  # both masks used


def test_items_of_a_batch_get_their_own_masks():
    out = spec_augment(torch.ones(8, 1, 64, 100), generator=torch.Generator().manual_seed(3))
    assert len({tuple((o[0] == 0).flatten().tolist()) for o in out}) > 1


def test_no_masks_and_bad_settings():
    x = torch.rand(1, 16, 16)
    assert torch.equal(spec_augment(x, generator=torch.Generator(), n_masks=0), x)
    with pytest.raises(ValueError):
        spec_augment(x, generator=torch.Generator(), max_freq=1.5)
    with pytest.raises(ValueError):
        spec_augment(torch.rand(5), generator=torch.Generator())
