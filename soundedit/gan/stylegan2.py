"""The StyleGAN2 generator (Karras et al. 2020) with rosinality's parameter names.

Ladder: ``EqualLinear`` / ``ModulatedConv2d`` (layers) → ``StyledConv`` / ``ToRGB`` (blocks) →
``Generator`` (network). Weights are stored unscaled and the equalised-learning-rate factors
are applied at run time, so checkpoints from rosinality, NVIDIA and TensorFlow map onto these
parameters without rescaling (FORMATS.md). Noise is fixed: per-layer buffers drawn once from
``GeneratorConfig.noise_seed``, so an image is a pure function of its latent.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from soundedit.config import from_dict
from soundedit.errors import ConfigError
from soundedit.gan.ops import bias_act, make_kernel, upfirdn2d


@dataclass(frozen=True)
class GeneratorConfig:
    resolution: int  # output side in pixels: a power of two from 8 to 1024
    style_dim: int = 512  # size of z and w
    n_mlp: int = 8  # linear layers in the mapping network
    channel_multiplier: int = 2  # widens layers at >= 64 px (config-f 2, config-e 1)
    channels: dict[int, int] | None = None  # explicit {res: channels} for 4..resolution (wins)
    lr_mlp: float = 0.01  # equalised-learning-rate multiplier of the mapping layers
    blur_kernel: tuple[int, ...] = (1, 3, 3, 1)  # FIR taps of the up-sampling and blur filters
    noise_seed: int = 0  # seed of the fixed per-layer noise buffers

    def __post_init__(self) -> None:
        r = self.resolution
        if isinstance(r, bool) or not isinstance(r, int) or r < 8 or r > 1024 or r & (r - 1):
            raise ConfigError(f"resolution must be a power of two from 8 to 1024, got {r!r}")
        for name in ("style_dim", "n_mlp", "channel_multiplier"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive whole number, got {value!r}")
        if len(self.blur_kernel) < 2:
            raise ConfigError(f"blur_kernel needs at least 2 taps, got {self.blur_kernel!r}")
        object.__setattr__(self, "blur_kernel", tuple(self.blur_kernel))
        if self.channels is not None:
            table = {int(k): int(v) for k, v in self.channels.items()}
            want = {4 * 2**i for i in range(int(math.log2(r)) - 1)}
            if set(table) != want or min(table.values()) < 1:
                raise ConfigError(
                    f"channels must give a positive count for each of {sorted(want)}, "
                    f"got {self.channels!r}"
                )
            object.__setattr__(self, "channels", dict(sorted(table.items())))

    @property
    def n_latent(self) -> int:
        """Number of W+ slots: 2·log2(resolution) − 2."""
        return 2 * int(math.log2(self.resolution)) - 2

    def channel_table(self) -> dict[int, int]:
        """{resolution: channels} for 4, 8, ..., resolution."""
        if self.channels is not None:
            return dict(self.channels)
        cm = self.channel_multiplier
        base = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256 * cm, 128: 128 * cm}
        base.update({256: 64 * cm, 512: 32 * cm, 1024: 16 * cm})
        return {res: c for res, c in base.items() if res <= self.resolution}


def config_from_dict(data: Mapping[str, Any]) -> GeneratorConfig:
    """A config from JSON data, where channel-table keys arrive as strings."""
    data = dict(data)
    if isinstance(data.get("channels"), Mapping):
        try:
            data["channels"] = {int(k): v for k, v in data["channels"].items()}
        except ValueError as e:
            raise ConfigError(f"channels keys must be resolutions, got {data['channels']}") from e
    return from_dict(GeneratorConfig, data, where="GeneratorConfig")


# ---- layers ---------------------------------------------------------------------------------


class PixelNorm(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + 1e-8)


class EqualLinear(nn.Module):
    """Linear layer with equalised learning rate: weight × lr_mul/√in, bias × lr_mul."""

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        *,
        bias_init: float = 0.0,
        lr_mul: float = 1.0,
        activation: bool = False,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init)))
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.activation:
            out = F.linear(x, self.weight * self.scale)
            return bias_act(out, self.bias * self.lr_mul, act="lrelu")
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class Blur(nn.Module):
    """FIR filter (no resampling) with the kernel scaled by ``factor²``."""

    def __init__(self, taps: tuple[int, ...], pad: tuple[int, int], factor: int = 1) -> None:
        super().__init__()
        self.register_buffer("kernel", make_kernel(taps, gain=factor**2), persistent=False)
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, pad=self.pad)


class Upsample(nn.Module):
    """×2 up-sampling with the FIR kernel (used on the RGB skip path)."""

    def __init__(self, taps: tuple[int, ...], factor: int = 2) -> None:
        super().__init__()
        self.register_buffer("kernel", make_kernel(taps, gain=factor**2), persistent=False)
        p = len(taps) - factor
        self.pad = ((p + 1) // 2 + factor - 1, p // 2)
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, up=self.factor, pad=self.pad)


class ModulatedConv2d(nn.Module):
    """Conv whose weights are scaled per sample by a style (and optionally demodulated).

    Computed as scale inputs by the style → one convolution shared by the batch → scale outputs
    by the demodulation factor, which equals the per-sample-weight form. It is faster on the CPU
    even at batch 1: when the weights are frozen (editing), the backward pass needs only the
    input gradient of a plain convolution, never a weight gradient.
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel_size: int,
        style_dim: int,
        *,
        demodulate: bool = True,
        upsample: bool = False,
        blur_kernel: tuple[int, ...] = (1, 3, 3, 1),
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(1, out_ch, in_ch, kernel_size, kernel_size))
        self.scale = 1 / math.sqrt(in_ch * kernel_size**2)
        self.modulation = EqualLinear(style_dim, in_ch, bias_init=1.0)
        self.demodulate = demodulate
        self.upsample = upsample
        self.padding = kernel_size // 2
        self._frozen: tuple | None = None  # (weight key, weight terms) of a frozen weight
        if upsample:
            p = (len(blur_kernel) - 2) - (kernel_size - 1)
            self.blur = Blur(blur_kernel, pad=((p + 1) // 2 + 1, p // 2 + 1), factor=2)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        s = self.modulation(style).float()  # [B, in]
        w, w_sq = self._weights()
        x = x * s[:, :, None, None].to(x.dtype)
        if self.upsample:
            out = F.conv_transpose2d(x, w.to(x.dtype), stride=2)
        elif w.ndim == 2:  # to_rgb: one matmul over all pixels beats a 1×1 conv to RGB
            b, c, h, width = x.shape
            # The pixels of the whole batch as rows, written out: torch.matmul would choose this
            # or a batched product depending on which inputs need a gradient (different sums).
            pixels = x.reshape(b, c, h * width).transpose(1, 2).reshape(b * h * width, c)
            out = pixels @ w.to(x.dtype).t()  # [B·HW, 3]
            out = out.reshape(b, h * width, -1).transpose(1, 2).reshape(b, -1, h, width)
        else:
            out = F.conv2d(x, w.to(x.dtype), padding=self.padding)
        if self.demodulate:
            d = torch.rsqrt(s.square() @ w_sq.t() + 1e-8)  # [B, out]
            out = out * d[:, :, None, None].to(out.dtype)
        return self.blur(out) if self.upsample else out

    def _weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The scaled weight as the product takes it — [out, in, k, k] for the convolution,
        [in, out, k, k] for the up-sampling one, [out, in] for a 1×1 — and its squared sums
        [out, in] for the demodulation.

        They depend on the weight alone, so a frozen generator (editing: no weight gradient)
        computes them once and keeps them until the weight changes (its version counter, its
        storage; a write through ``.data`` bypasses the counter); a trained one recomputes them
        in the graph every call.
        """
        key = (self.weight._version, self.weight.data_ptr(), self.weight.device)
        if self.weight.requires_grad or self._frozen is None or self._frozen[0] != key:
            w = self.weight[0] * self.scale  # [out, in, k, k]
            weights = (_conv_layout(w, upsample=self.upsample), w.square().sum([2, 3]))
            # Tensors made under inference mode cannot be saved for a later backward pass.
            if self.weight.requires_grad or torch.is_inference_mode_enabled():
                return weights
            self._frozen = (key, weights)
        return self._frozen[1]


def _conv_layout(w: torch.Tensor, *, upsample: bool) -> torch.Tensor:
    """A weight [out, in, k, k] laid out as its product wants it, so that no call copies it: the
    transpose for the up-sampling convolution, the matrix of a 1×1, channels-last on the CPU
    (where the feature maps are: :meth:`Generator.synthesis`)."""
    if w.shape[-1] == 1:
        return w[:, :, 0, 0]
    w = w.transpose(0, 1) if upsample else w
    cpu = w.device.type == "cpu"
    return w.contiguous(memory_format=torch.channels_last if cpu else torch.contiguous_format)


class NoiseInjection(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return x + (self.weight * noise).to(x.dtype)


class FusedLeakyReLU(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return bias_act(x, self.bias, act="lrelu")


class ConstantInput(nn.Module):
    def __init__(self, channels: int, size: int = 4) -> None:
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channels, size, size))

    def forward(self, batch: int) -> torch.Tensor:
        return self.input.expand(batch, -1, -1, -1)


# ---- blocks ---------------------------------------------------------------------------------


class StyledConv(nn.Module):
    """Modulated 3×3 conv → fixed noise × learnt strength → bias + leaky ReLU."""

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        style_dim: int,
        *,
        upsample: bool = False,
        blur_kernel: tuple[int, ...] = (1, 3, 3, 1),
    ) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(
            in_ch, out_ch, 3, style_dim, upsample=upsample, blur_kernel=blur_kernel
        )
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_ch)

    def forward(self, x: torch.Tensor, style: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return self.activate(self.noise(self.conv(x, style), noise))


class ToRGB(nn.Module):
    """Modulated 1×1 conv to RGB (no demodulation), plus the up-sampled previous RGB."""

    def __init__(
        self,
        in_ch: int,
        style_dim: int,
        *,
        upsample: bool = True,
        blur_kernel: tuple[int, ...] = (1, 3, 3, 1),
    ) -> None:
        super().__init__()
        if upsample:
            self.upsample = Upsample(blur_kernel)
        self.conv = ModulatedConv2d(in_ch, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(
        self, x: torch.Tensor, style: torch.Tensor, skip: torch.Tensor | None = None
    ) -> torch.Tensor:
        out = self.conv(x, style) + self.bias.to(x.dtype)
        if skip is not None:
            out = out + self.upsample(skip)
        return out


# ---- network --------------------------------------------------------------------------------


class Generator(nn.Module):
    """StyleGAN2 generator: ``mapping`` (z → w) and ``synthesis`` (W+ → image) kept separate."""

    def __init__(self, config: GeneratorConfig) -> None:
        super().__init__()
        if not isinstance(config, GeneratorConfig):
            raise ConfigError(f"expected a GeneratorConfig, got {type(config).__name__}")
        self.config = config
        s, blur = config.style_dim, config.blur_kernel
        layers = [
            EqualLinear(s, s, lr_mul=config.lr_mlp, activation=True) for _ in range(config.n_mlp)
        ]
        self.style = nn.Sequential(PixelNorm(), *layers)
        ch = config.channel_table()
        self.input = ConstantInput(ch[4])
        self.conv1 = StyledConv(ch[4], ch[4], s, blur_kernel=blur)
        self.to_rgb1 = ToRGB(ch[4], s, upsample=False)
        self.convs = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        in_ch = ch[4]
        for res in sorted(ch)[1:]:
            self.convs.append(StyledConv(in_ch, ch[res], s, upsample=True, blur_kernel=blur))
            self.convs.append(StyledConv(ch[res], ch[res], s, blur_kernel=blur))
            self.to_rgbs.append(ToRGB(ch[res], s, blur_kernel=blur))
            in_ch = ch[res]
        self.noises = nn.Module()
        rng = torch.Generator().manual_seed(config.noise_seed)
        for i in range(config.n_latent - 1):
            size = 2 ** ((i + 5) // 2)
            self.noises.register_buffer(f"noise_{i}", torch.randn(1, 1, size, size, generator=rng))
        self.register_buffer("mean_w", torch.zeros(s))

    @property
    def resolution(self) -> int:
        return self.config.resolution

    @property
    def style_dim(self) -> int:
        return self.config.style_dim

    @property
    def n_latent(self) -> int:
        return self.config.n_latent

    def mapping(self, z: torch.Tensor, truncation: float = 1.0) -> torch.Tensor:
        """z [B, S] → w [B, S], pulled toward ``mean_w`` when ``truncation`` < 1."""
        if z.ndim != 2 or z.shape[1] != self.style_dim:
            raise ValueError(f"z must be [B, {self.style_dim}], got {list(z.shape)}")
        w = self.style(z)
        if truncation != 1.0:
            w = torch.lerp(self.mean_w.to(w.dtype), w, truncation)
        return w

    def w_plus(self, w: torch.Tensor) -> torch.Tensor:
        """w [B, S] → W+ [B, n_latent, S] (a fresh copy, safe to optimise in place)."""
        return w[:, None, :].repeat(1, self.n_latent, 1)

    @torch.no_grad()
    def compute_mean_w(self, n_samples: int, generator: torch.Generator) -> torch.Tensor:
        """Set ``mean_w`` to the mean of ``mapping(z)`` over ``n_samples`` z from ``generator``."""
        if n_samples < 1:
            raise ValueError(f"n_samples must be >= 1, got {n_samples}")
        device = self.mean_w.device
        total = torch.zeros(self.style_dim, dtype=torch.float64, device=device)
        for start in range(0, n_samples, 1024):
            n = min(1024, n_samples - start)
            z = torch.randn(n, self.style_dim, generator=generator).to(device)
            total += self.style(z).double().sum(0)
        self.mean_w.copy_((total / n_samples).to(self.mean_w.dtype))
        return self.mean_w

    def synthesis(self, w_plus: torch.Tensor) -> torch.Tensor:
        """W+ [B, n_latent, S] → images [B, 3, R, R], roughly in [-1, 1]."""
        if w_plus.ndim != 3 or tuple(w_plus.shape[1:]) != (self.n_latent, self.style_dim):
            raise ValueError(
                f"w_plus must be [B, {self.n_latent}, {self.style_dim}], got {list(w_plus.shape)}"
            )
        noises = [getattr(self.noises, f"noise_{i}") for i in range(self.n_latent - 1)]
        x = self.input(w_plus.shape[0])
        if x.device.type == "cpu":
            # oneDNN's CPU convolutions run faster on channels-last feature maps (the layout
            # carries through every layer); the image leaves in the usual layout.
            x = x.contiguous(memory_format=torch.channels_last)
        x = self.conv1(x, w_plus[:, 0], noises[0])
        skip = self.to_rgb1(x, w_plus[:, 1])
        for k, rgb in enumerate(self.to_rgbs):
            x = self.convs[2 * k](x, w_plus[:, 2 * k + 1], noises[2 * k + 1])
            x = self.convs[2 * k + 1](x, w_plus[:, 2 * k + 2], noises[2 * k + 2])
            skip = rgb(x, w_plus[:, 2 * k + 3], skip)
        return skip.contiguous()

    def extra_repr(self) -> str:
        return ", ".join(
            f"{f.name}={getattr(self.config, f.name)!r}" for f in dataclasses.fields(self.config)
        )
