"""IR-SE50: the model_ir_se50.pth layout loads strictly; the crop/pool pipeline of pSp/StyleCLIP."""

from __future__ import annotations

import pytest
import torch

from soundedit.encoders.identity import IRSE50, IdentityModel, load_ir_se50
from soundedit.errors import CheckpointError
from tests.tolerances import assert_unit


def _bn(shapes: dict, prefix: str, c: int) -> None:
    for name in ("weight", "bias", "running_mean", "running_var"):
        shapes[f"{prefix}.{name}"] = (c,)
    shapes[f"{prefix}.num_batches_tracked"] = ()


def ir_se50_layout() -> dict[str, tuple[int, ...]]:
    """Every tensor of model_ir_se50.pth by name and shape, written out from the architecture."""
    shapes: dict[str, tuple[int, ...]] = {"input_layer.0.weight": (64, 3, 3, 3)}
    _bn(shapes, "input_layer.1", 64)
    shapes["input_layer.2.weight"] = (64,)
    n, cin = 0, 64
    for units, depth in zip((3, 4, 14, 3), (64, 128, 256, 512), strict=True):
        for u in range(units):
            i, p = (cin if u == 0 else depth), f"body.{n}"
            if i != depth:
                shapes[f"{p}.shortcut_layer.0.weight"] = (depth, i, 1, 1)
                _bn(shapes, f"{p}.shortcut_layer.1", depth)
            _bn(shapes, f"{p}.res_layer.0", i)
            shapes[f"{p}.res_layer.1.weight"] = (depth, i, 3, 3)
            shapes[f"{p}.res_layer.2.weight"] = (depth,)
            shapes[f"{p}.res_layer.3.weight"] = (depth, depth, 3, 3)
            _bn(shapes, f"{p}.res_layer.4", depth)
            shapes[f"{p}.res_layer.5.fc1.weight"] = (depth // 16, depth, 1, 1)
            shapes[f"{p}.res_layer.5.fc2.weight"] = (depth, depth // 16, 1, 1)
            n += 1
        cin = depth
    _bn(shapes, "output_layer.0", 512)
    shapes["output_layer.3.weight"] = (512, 512 * 7 * 7)
    shapes["output_layer.3.bias"] = (512,)
    _bn(shapes, "output_layer.4", 512)
    return shapes


def random_ir_se50_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """Seeded random tensors for :func:`ir_se50_layout` (what model_ir_se50.pth holds)."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape in ir_se50_layout().items():
        if name.endswith("num_batches_tracked"):
            state[name] = torch.tensor(7)
        elif name.endswith("running_var"):
            state[name] = torch.rand(shape, generator=g) + 0.5
        else:
            state[name] = torch.randn(shape, generator=g) * 0.05
    return state


@pytest.fixture(scope="module")
def ir_se50_file(tmp_path_factory):
    state = random_ir_se50_state()
    path = tmp_path_factory.mktemp("arcface") / "model_ir_se50.pth"
    torch.save(state, path)
    return path, state


def test_layout_loads_strictly(ir_se50_file):
    path, state = ir_se50_file
    model = load_ir_se50(path)
    assert len(model.body) == 24 and not model.training
    loaded = model.state_dict()
    assert set(loaded) == set(state)
    for name, tensor in state.items():
        torch.testing.assert_close(loaded[name], tensor, rtol=0, atol=0)


def test_full_model_embeds_images(ir_se50_file):
    path, _ = ir_se50_file
    identity = IdentityModel(load_ir_se50(path))
    images = torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(1)) * 2 - 1
    first, second = identity.embed(images), identity.embed(images)
    assert first.shape == (1, 512)
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    assert_unit(first)


def test_mismatch_is_listed(ir_se50_file, tmp_path):
    _, state = ir_se50_file
    broken = dict(state)
    del broken["output_layer.3.bias"]
    broken["output_layer.3.weight"] = torch.zeros(512, 10)
    path = tmp_path / "broken.pth"
    torch.save(broken, path)
    with pytest.raises(CheckpointError, match=r"missing: output_layer\.3\.bias.*shape"):
        load_ir_se50(path)


@pytest.fixture(scope="module")
def small_identity():
    torch.manual_seed(0)
    return IdentityModel(IRSE50(stages=(1, 1, 1, 1)))


def test_only_the_face_crop_matters(small_identity):
    g = torch.Generator().manual_seed(2)
    images = torch.rand(1, 3, 256, 256, generator=g) * 2 - 1
    changed = images.clone()
    changed[:, :, :35] = 1.0  # above the crop
    changed[:, :, :, 220:] = -1.0  # right of the crop
    torch.testing.assert_close(small_identity.embed(changed), small_identity.embed(images))
    changed[:, :, 100, 100] = 1.0  # inside the crop
    assert not torch.allclose(small_identity.embed(changed), small_identity.embed(images))


def test_pipeline_sizes_and_gradient(small_identity):
    for size in (1024, 64):  # pooled by 4, or resized
        assert small_identity.crop_faces(torch.zeros(2, 3, size, size)).shape == (2, 3, 112, 112)
    images = (torch.rand(1, 3, 512, 512) * 2 - 1).requires_grad_()
    small_identity.embed(images).sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="B, 3, H, W"):
        small_identity.embed(torch.zeros(3, 64, 64))
