"""Sound-guided editing of StyleGAN2 latents.

- :mod:`~soundedit.edit.optimize`: :func:`edit_steps` (the optimisation as an iterator of
  :class:`EditStep`), :class:`EditConfig`, source latents from seeds;
- :mod:`~soundedit.edit.losses`: guidance, latent regulariser (adaptive layer mask), identity;
- :mod:`~soundedit.edit.mixing`: style mixing and interpolation in W+;
- :mod:`~soundedit.edit.latents`: reading latent files; :mod:`~soundedit.edit.project`: photos;
- :mod:`~soundedit.edit.pipeline`: the high-level :func:`run_edit` used by the CLI and the app.
"""

from soundedit.edit.mixing import interpolate, style_mix
from soundedit.edit.optimize import (
    EditConfig,
    EditStep,
    blend_targets,
    edit_steps,
    source_from_mean,
    source_from_seed,
)

__all__ = [
    "EditConfig",
    "EditStep",
    "blend_targets",
    "edit_steps",
    "interpolate",
    "source_from_mean",
    "source_from_seed",
    "style_mix",
]
