"""How an edit uses the bundle's mapper: an instant edit, or a warm start of the optimisation.

A bundle with a mapper (``bundle.mapper``, a :class:`~soundedit.edit.mapper.LatentMapper`)
edits in one forward pass when the request asks ``instant``; otherwise, by default, the
optimisation starts from the mapper's edit (``warm_start``), so its previews begin at an
already-right picture. The regulariser still pulls towards the source: a warm start changes
where Adam starts, not what it minimises.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from soundedit.edit import losses
from soundedit.edit.mapper import map_edit
from soundedit.edit.optimize import EditStep
from soundedit.errors import ConfigError
from soundedit.settings import EditConfig


def mapper_use(bundle, request, config: EditConfig, z_source, notices) -> dict | None:
    """The report's ``mapper`` entry, ``{"instant", "warm_start"}`` (None: the bundle has none).

    Raises:
        ConfigError: ``instant`` on a bundle without a mapper, or on a source the mapper cannot
            move (a z mapper needs a seed).
    """
    mapper = getattr(bundle, "mapper", None)
    if mapper is None:
        if request.instant:
            raise ConfigError(
                f"the {bundle.name} world has no mapper, so it has no instant edit; "
                "leave out instant to run the optimisation"
            )
        return None
    space = mapper.config.space
    if space != config.space or (space == "z" and z_source is None):
        if request.instant:
            raise ConfigError(
                f"this world's mapper moves {space} latents and this edit runs in {config.space}: "
                "instant edits start from a seed; a latent file or a photo needs the optimisation"
            )
        if request.warm_start:
            notices.add(f"the mapper moves {space} latents: this edit starts from the source")
        return {"instant": False, "warm_start": False}
    instant = bool(request.instant)
    return {"instant": instant, "warm_start": bool(request.warm_start) and not instant}


def mapped_start(bundle, target, w_source, z_source, *, config: EditConfig):
    """The mapper's edit of the source towards ``target`` [1, D]: (latent in the edit's space,
    W+ [1, L, S])."""
    latent = z_source if bundle.mapper.config.space == "z" else w_source
    return map_edit(bundle, bundle.mapper, target, latent, truncation=config.truncation)


def instant_steps(bundle, target, w_source, z_source, *, config: EditConfig) -> Iterator[EditStep]:
    """The instant edit as a run of one step (so callers treat it like any run)."""
    moved, w = mapped_start(bundle, target, w_source, z_source, config=config)
    source = z_source if bundle.mapper.config.space == "z" else w_source
    with torch.no_grad():
        images = bundle.generator.synthesis(w).float()
        similarity = float(losses.cosine_similarity(bundle.clip.embed_image(images), target))
        reg = losses.l2_latent_loss(moved, source.to(moved.device))
    values = {"guidance": 1.0 - similarity, "latent": config.lambda_reg * float(reg)}
    values["total"] = values["guidance"] + values["latent"]
    yield EditStep(
        step=1, total=1, losses=values, similarity=similarity, w=w, preview=None, layer_mask=None
    )
