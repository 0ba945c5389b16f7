"""One rank of the two-process gloo test (imported by spawned children, so no pytest here)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from soundedit.train.config import TrainConfig
from soundedit.train.loop import AudioTower, compute_loss
from soundedit.train.losses import LossBatch, LossConfig, Temperature, reported_loss
from tests.train.helpers import TinyEncoder

GLOBAL_BATCH = 8
CONFIG = TrainConfig(losses=LossConfig(text=1.0, image=0.7, augment=0.5, weak_kl=0.3, weak_pairs=3))


def global_inputs():
    """The same global batch on every rank: features, views and CLIP-side embeddings."""
    g = torch.Generator().manual_seed(42)

    def unit(*shape):
        return F.normalize(torch.randn(*shape, generator=g), dim=-1)

    features = torch.randn(GLOBAL_BATCH, 1, 16, 16, generator=g)
    augmented = features * (torch.rand(features.shape, generator=g) > 0.2)
    batch = LossBatch(
        audio=torch.empty(0),
        text=unit(GLOBAL_BATCH, 16),
        text_ids=torch.tensor([0, 1, 2, 0, 3, 4, 5, 1]),  # repeated captions across ranks
        image=unit(GLOBAL_BATCH, 16),
        image_ids=torch.arange(GLOBAL_BATCH),
        label_text=unit(GLOBAL_BATCH, 16),
        weak_images=unit(GLOBAL_BATCH, 3, 16),
        weak_valid=torch.tensor([True, True, False, True, True, True, True, False]),
    )
    return features, augmented, batch


def loss_and_grads(model, tower, features, augmented, batch):
    """Reported loss and the gradients of every trainable tensor after one backward."""
    terms = compute_loss(
        model,
        features,
        augmented,
        batch,
        CONFIG,
        logit_scale=tower.temperature(),
        clip_scale=50.0,
    )
    terms["loss"].backward()
    grads = {n: p.grad.detach().clone() for n, p in tower.named_parameters()}
    return reported_loss(terms, CONFIG.losses), grads


def build_tower():
    torch.manual_seed(0)
    return AudioTower(TinyEncoder(), Temperature(CONFIG.losses))


def local_slice(batch: LossBatch, rows: slice) -> LossBatch:
    fields = {
        k: (v[rows] if isinstance(v, torch.Tensor) and v.numel() else v)
        for k, v in vars(batch).items()
    }
    return LossBatch(**fields)


def run(rank: int, world: int, port: int, out_dir: str) -> None:
    """Entry point of torch.multiprocessing.spawn: one rank's loss and gradients to a file."""
    torch.set_num_threads(1)
    torch.distributed.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world
    )
    try:
        tower = build_tower()
        model = torch.nn.parallel.DistributedDataParallel(tower)
        features, augmented, batch = global_inputs()
        b = GLOBAL_BATCH // world
        rows = slice(rank * b, (rank + 1) * b)
        loss, grads = loss_and_grads(
            model, tower, features[rows], augmented[rows], local_slice(batch, rows)
        )
        torch.save({"loss": loss, "grads": grads}, f"{out_dir}/rank{rank}.pt")
        # Both ranks reach here before either tears gloo down: a rank that destroys the group
        # while the other still talks to it can abort ("terminate called without an active
        # exception"), which failed one CI run.
        torch.distributed.barrier()
    finally:
        torch.distributed.destroy_process_group()
