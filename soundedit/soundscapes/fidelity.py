"""How close G(z) is to the picture it should draw, render(params_from_z(z)), on held-out latents.

Two honest measures (they replaced a gradient ratio that fine speckles passed as "sharp"):

- :func:`pixel_error`: the mean absolute pixel difference |G(z) - render(params(z))| on [0, 1]
  pixels;
- :func:`judge_accuracy`: a small CNN (:class:`Judge`) is trained briefly to tell G(z) from the
  render on one set of latents and tested on another; its test accuracy is 0.5 when the two
  cannot be told apart and 1.0 when every picture gives itself away.

Both are seeded: the same generator and seeds give the same figures.
"""

from __future__ import annotations

import torch
from torch import nn

from soundedit.soundscapes.params import params_from_z
from soundedit.soundscapes.render import render


def held_out_z(n: int, seed: int, style_dim: int) -> torch.Tensor:
    """``n`` latents z [n, style_dim] drawn from ``seed`` (on the CPU)."""
    return torch.randn(n, style_dim, generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def paired_images(G, z: torch.Tensor, *, chunk: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """(G(z), render(params_from_z(z))) at truncation 1, both [B, 3, R, R] in [-1, 1] on the CPU."""
    fake, real = [], []
    device = G.mean_w.device
    for part in z.split(chunk):
        w = G.mapping(part.to(device))
        fake.append(G.synthesis(G.w_plus(w)).float().cpu())
        real.append(render(params_from_z(part), size=G.resolution))
    return torch.cat(fake), torch.cat(real)


def comparison_sheet(fake: torch.Tensor, real: torch.Tensor, *, columns: int = 8) -> torch.Tensor:
    """Pairs for the eye: each group of ``columns`` latents as a row of G(z) above a row of
    their renders, [2 * B, 3, R, R] in the order ``contact_sheet`` tiles them."""
    rows = []
    for start in range(0, len(fake), columns):
        rows += [fake[start : start + columns], real[start : start + columns]]
    return torch.cat(rows)


def pixel_error(fake: torch.Tensor, real: torch.Tensor) -> float:
    """Mean |fake - real| on [0, 1] pixels of images given in [-1, 1]."""
    return float((fake - real).abs().mean() / 2)


class Judge(nn.Module):
    """A small CNN: images [B, 3, R, R] in [-1, 1] -> a logit [B] (> 0: a render)."""

    def __init__(self, widths: tuple[int, ...] = (16, 32, 64)):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for c in widths:
            layers += [nn.Conv2d(c_in, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            c_in = c
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c_in, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images).mean(dim=(2, 3))).squeeze(1)  # [B]


def train_judge(
    fake: torch.Tensor, real: torch.Tensor, *, steps: int = 300, batch: int = 32, seed: int = 0
) -> Judge:
    """A :class:`Judge` trained for ``steps`` Adam steps on halves of fakes and renders."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        judge = Judge()
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(judge.parameters(), lr=2e-3, betas=(0.5, 0.99))
    half = max(1, batch // 2)
    labels = torch.cat([torch.zeros(half), torch.ones(half)])
    for _ in range(steps):
        i = torch.randint(len(fake), (half,), generator=g)
        j = torch.randint(len(real), (half,), generator=g)
        logits = judge(torch.cat([fake[i], real[j]]))
        loss = nn.functional.binary_cross_entropy_with_logits(logits, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return judge.eval()


@torch.no_grad()
def judge_test_accuracy(judge: Judge, fake: torch.Tensor, real: torch.Tensor) -> float:
    """The share of ``fake`` called fake and ``real`` called real (both counted equally)."""
    fake_right = (judge(fake) <= 0).float().mean()
    real_right = (judge(real) > 0).float().mean()
    return float((fake_right + real_right) / 2)


def judge_accuracy(
    G,
    *,
    train_seed: int,
    test_seed: int,
    n_train: int = 512,
    n_test: int = 256,
    steps: int = 300,
    seed: int = 0,
) -> float:
    """Test accuracy of a judge trained on the latents of ``train_seed`` and tested on those of
    ``test_seed`` (0.5 = G(z) and the renders cannot be told apart)."""
    train = paired_images(G, held_out_z(n_train, train_seed, G.style_dim))
    judge = train_judge(*train, steps=steps, seed=seed)
    test = paired_images(G, held_out_z(n_test, test_seed, G.style_dim))
    return judge_test_accuracy(judge, *test)
