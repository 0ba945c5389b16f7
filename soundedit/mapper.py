"""Latent mappers, the network and its files: an edit in one forward pass (amortised guidance).

A mapper ``M(latent, target) -> latent change`` is StyleCLIP's latent mapper conditioned on the
target as in HairCLIP: an MLP on ``[latent - centre, target, layer one-hot]`` whose last layer
starts at zero, so an untrained mapper is the identity (no change). The target is a unit
embedding of the world's CLIP space (a sound, words or a blend), so one mapper serves every
audio encoder aligned to that CLIP.

- ``space="z"`` (worlds that edit the seed's z, such as SoundScapes): the latent is z [B, S],
  seen as one layer [B, 1, S]; the edit is ``w_plus(mapping(z + M(z, t)))``.
- ``space="w+"`` (real generators, the paper's space): one network shared by all W+ layers,
  told the layer by a one-hot; the edit is ``w_plus + M(w_plus, t)`` [B, L, S]. One shared
  network keeps a 18-layer mapper small; the one-hot still lets it move layers differently.

:func:`soundedit.edit.mapper.map_edit` is the edit and ``mapper_loss`` its training objective;
the trainer is :mod:`soundedit.edit.mapper_training`. This module sits beside
:mod:`soundedit.bundle` (which loads a world's mapper), below the edit engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from soundedit.config import from_dict
from soundedit.errors import CheckpointError, ConfigError
from soundedit.weights_io import load_weights, save_weights

KIND = "latent_mapper"


@dataclass(frozen=True)
class MapperConfig:
    """Architecture of a latent mapper."""

    space: Literal["z", "w+"]  # the latent it moves: the seed's z, or W+
    n_latent: int  # layers it moves: 1 in space "z", the generator's W+ layers in "w+"
    style_dim: int  # size of one latent layer
    embed_dim: int  # size of the CLIP space of the targets
    hidden: int = 512  # width of the hidden layers
    depth: int = 3  # number of hidden layers


class LatentMapper(nn.Module):
    """``forward(latent [B, L, S], target [B, D]) -> latent change [B, L, S]``."""

    def __init__(self, config: MapperConfig):
        super().__init__()
        self.config = config
        width = config.style_dim + config.embed_dim + config.n_latent
        layers: list[nn.Module] = []
        for _ in range(config.depth):
            layers += [nn.Linear(width, config.hidden), nn.LeakyReLU(0.2)]
            width = config.hidden
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, config.style_dim)
        # Zero head: the untrained mapper changes nothing (the residual starts at the source).
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.register_buffer("centre", torch.zeros(config.style_dim))  # mean w in "w+", 0 in z

    def forward(self, latent: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        B, L, S = latent.shape
        layer = torch.eye(L, device=latent.device).expand(B, L, L)  # [B, L, L]
        # A unit target has entries ~1/sqrt(D) against the latent's ~1: scaled up, the target
        # weighs as much as the latent from the first step (else the mapper learns one edit
        # for every target first).
        cond = target.float()[:, None].expand(B, L, target.shape[-1]) * target.shape[-1] ** 0.5
        x = torch.cat([latent.float() - self.centre, cond, layer], dim=-1)
        return self.head(self.body(x))  # [B, L, S]


def new_mapper(bundle, *, hidden: int = 512, depth: int = 3) -> LatentMapper:
    """An untrained (identity) mapper for ``bundle`` in its default latent space."""
    G = bundle.generator
    space = bundle.defaults.space
    config = MapperConfig(
        space=space,
        n_latent=1 if space == "z" else G.n_latent,
        style_dim=G.style_dim,
        embed_dim=bundle.clip.embed_dim,
        hidden=hidden,
        depth=depth,
    )
    mapper = LatentMapper(config)
    if space == "w+":
        mapper.centre.copy_(G.mean_w.detach().reshape(-1).cpu())
    return mapper.to(G.mean_w.device)


def save_mapper(mapper: LatentMapper, path: str | Path, meta: dict | None = None) -> Path:
    """Write ``path``.safetensors + .json (kind "latent_mapper", the config, ``meta``)."""
    return save_weights(path, mapper.state_dict(), kind=KIND, config=mapper.config, meta=meta)


def load_mapper(path: str | Path, *, device="cpu") -> LatentMapper:
    """Read a mapper pair written by :func:`save_mapper` (eval mode, on ``device``).

    Raises:
        CheckpointError: a file is missing or damaged, or it is not a mapper.
    """
    tensors, record = load_weights(path, kind=KIND)
    try:
        config = from_dict(MapperConfig, record["config"], where=f"{path} config")
        mapper = LatentMapper(config)
        mapper.load_state_dict(tensors)
    except (ConfigError, KeyError, RuntimeError) as e:
        raise CheckpointError(f"{path} is not a latent mapper this version can read: {e}") from e
    return mapper.to(device).eval()


def check_mapper(bundle, mapper: LatentMapper) -> None:
    """Raise ConfigError when ``mapper`` does not fit ``bundle`` (space, sizes)."""
    G, c = bundle.generator, mapper.config
    if c.space != bundle.defaults.space:
        raise ConfigError(
            f"the mapper moves {c.space} latents; this world edits in {bundle.defaults.space}"
        )
    n_latent = 1 if c.space == "z" else G.n_latent
    if (c.n_latent, c.style_dim, c.embed_dim) != (n_latent, G.style_dim, bundle.clip.embed_dim):
        raise ConfigError(
            f"the mapper moves {c.n_latent}x{c.style_dim} latents for {c.embed_dim}-d targets; "
            f"this generator needs {n_latent}x{G.style_dim} and its CLIP {bundle.clip.embed_dim}-d"
        )


def mapped_latent(mapper: LatentMapper, latent: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The moved latent: ``latent + M(latent, target)`` for z [B, S] or W+ [B, L, S]."""
    if latent.ndim == 2:  # z [B, S] is one layer
        return latent + mapper(latent[:, None], target)[:, 0]
    return latent + mapper(latent, target)
