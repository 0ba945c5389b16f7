"""The conditional adversarial term of the generator's training (the pix2pix recipe).

Pixel losses alone settle on the conditional mean of what a latent could draw: a blur, or
speckles where the renders have fine detail. A small patch discriminator sees a picture together
with its scene parameters and tells renders from G(z); the generator is pushed to make each
64 px patch look like a render of *that* scene. Its R1 penalty (the squared gradient of the
discriminator on renders) keeps the discriminator smooth so the game stays stable on a CPU
batch of 16.

:class:`RunState` is what a snapshot of an adversarial run holds besides the generator: the
discriminator, both optimisers, the step and the data generator's state, so a run continues
exactly where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from soundedit.soundscapes.params import N_PARAMS


class PatchDiscriminator(nn.Module):
    """(images [B, 3, R, R] in [-1, 1], params [B, P]) -> patch logits [B, 1, R/8, R/8].

    The scene parameters enter as constant extra input channels, so every patch is judged
    against the scene it should show (a conditional discriminator).
    """

    def __init__(self, widths: tuple[int, ...] = (32, 64, 128), n_params: int = N_PARAMS):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3 + n_params
        for c in widths:
            layers += [nn.Conv2d(c_in, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            c_in = c
        layers.append(nn.Conv2d(c_in, 1, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        b, _, h, w = images.shape
        scene = params.to(images.dtype).view(b, -1, 1, 1).expand(b, params.shape[1], h, w)
        return self.net(torch.cat([images, scene], dim=1))


def r1_penalty(D: PatchDiscriminator, real: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of |d D(real) / d real|^2 (the R1 regulariser)."""
    real = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(real, params).sum(), real, create_graph=True)
    return grad.square().sum(dim=(1, 2, 3)).mean()


def discriminator_loss(
    D: PatchDiscriminator,
    fake: torch.Tensor,
    real: torch.Tensor,
    params: torch.Tensor,
    *,
    r1: float,
) -> torch.Tensor:
    """Non-saturating logistic loss (renders = 1, G(z) = 0) plus ``r1`` / 2 times R1."""
    loss = nn.functional.softplus(D(fake.detach(), params)).mean()
    loss = loss + nn.functional.softplus(-D(real, params)).mean()
    if r1:
        loss = loss + 0.5 * r1 * r1_penalty(D, real, params)
    return loss


def adversarial_term(D: PatchDiscriminator, fake: torch.Tensor, params: torch.Tensor):
    """The generator's side: softplus(-D(G(z))), so G(z) is pushed to pass for a render."""
    return nn.functional.softplus(-D(fake, params)).mean()


def discriminator_step(
    D: PatchDiscriminator, opt: torch.optim.Optimizer, fake, real, params, *, r1: float
) -> float:
    """One Adam step of the discriminator; returns its loss."""
    loss = discriminator_loss(D, fake, real, params, r1=r1)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return float(loss.detach())


def make_discriminator_optimizer(D: PatchDiscriminator, lr: float = 1e-3):
    """Adam with the GAN betas (0, 0.99)."""
    return torch.optim.Adam(D.parameters(), lr=lr, betas=(0.0, 0.99))


@dataclass
class RunState:
    """Everything a generator run needs to continue exactly (saved beside its snapshots)."""

    step: int  # steps done
    generator: dict  # G.state_dict()
    generator_opt: dict  # its Adam state
    data_rng: torch.Tensor  # the latent sampler's torch.Generator state
    discriminator: dict | None = None  # D.state_dict() (adversarial runs only)
    discriminator_opt: dict | None = None  # its Adam state

    def save(self, path: str | Path) -> Path:
        """Write the state (tensors and plain values only: it loads with weights_only)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(self.__dict__, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> RunState:
        """Read a state written by :meth:`save`; FileNotFoundError / ValueError say why not."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"run state {path} does not exist; give a state-*.pt snapshot")
        try:
            return cls(**torch.load(path, map_location="cpu", weights_only=True))
        except (RuntimeError, TypeError, OSError) as e:
            raise ValueError(f"{path} is not a generator run state ({e})") from e
