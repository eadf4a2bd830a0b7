"""The PtychoPINN encoder/decoder CNN (``docs/architecture-model.md``), channels-first.

Module attribute names are chosen so that ``state_dict()`` keys *are* the canonical weight
names of the architecture document (``encoder.0.conv0.weight`` ...), and torch's
``Conv2d`` kernel layout ``(out, in, kh, kw)`` *is* the canonical OIHW layout. The
physics scale ``physics.log_scale`` lives in :class:`PhysicsScale`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ptychopinn.config import ModelConfig

__all__ = ["PtychoPINNNet", "PhysicsScale", "encoder_widths", "decoder_widths"]

BORDER_CHANNELS = 4
"""Decoder channels reserved for the low-resolution border branch (``probe_big``)."""


def encoder_widths(N: int, n: int) -> list[int]:
    """Encoder block widths from the input: N=64 -> 32n, 64n, 128n; each N doubling adds one block."""
    n_blocks = int(round(math.log2(N))) - 3
    return [n * 128 // 2 ** (n_blocks - 1 - i) for i in range(n_blocks)]


def decoder_widths(N: int, n: int) -> list[int]:
    """Decoder block widths from the bottleneck: N=64 -> 64n, 32n; N=128 -> 128n, 64n, 32n."""
    n_blocks = int(round(math.log2(N))) - 4
    return [n * 32 * 2 ** (n_blocks - 1 - j) for j in range(n_blocks)]


class ConvBlock(nn.Module):
    """conv3x3(f) -> ReLU -> conv3x3(f) -> ReLU (same padding, bias)."""

    def __init__(self, c_in: int, f: int) -> None:
        super().__init__()
        self.conv0 = nn.Conv2d(c_in, f, 3, padding=1)
        self.conv1 = nn.Conv2d(f, f, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv1(F.relu(self.conv0(x))))


class UpBranch(nn.Module):
    """ConvBlock(f) -> nearest upsample x2 -> conv3x3(c_out) (border / full-resolution heads)."""

    def __init__(self, c_in: int, f: int, c_out: int) -> None:
        super().__init__()
        self.conv0 = nn.Conv2d(c_in, f, 3, padding=1)
        self.conv1 = nn.Conv2d(f, f, 3, padding=1)
        self.out = nn.Conv2d(f, c_out, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(F.relu(self.conv0(x))))
        return self.out(F.interpolate(x, scale_factor=2, mode="nearest"))


def amp_activation(name: str, x: torch.Tensor) -> torch.Tensor:
    """The amplitude activation of :class:`ModelConfig` (sigmoid, swish, softplus, relu)."""
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "swish":
        return F.silu(x)
    if name == "softplus":
        return F.softplus(x)
    if name == "relu":
        return F.relu(x)
    raise ValueError(f"unknown amp_activation {name!r}")


class Head(nn.Module):
    """One output head (amplitude or phase): (B, 32n, N/2, N/2) -> (B, C_out, N, N)."""

    def __init__(self, cfg: ModelConfig, c_in: int, c_out: int, activation: str) -> None:
        super().__init__()
        N, n = cfg.N, cfg.n_filters_scale
        self.activation = activation
        self.pad_object = cfg.pad_object
        self.probe_big = cfg.probe_big
        self.N = N
        if cfg.pad_object:
            self.central = nn.Conv2d(c_in - BORDER_CHANNELS, c_out, 3, padding=1)
            if cfg.probe_big:
                self.border = UpBranch(BORDER_CHANNELS, 2048 // N * n, c_out)
                mask = torch.ones(N, N)
                lo = N // 4
                mask[lo : lo + N // 2, lo : lo + N // 2] = 0
                self.register_buffer("border_mask", mask, persistent=False)
        else:
            self.full = UpBranch(c_in, 32 * n, c_out)

    def _act(self, x: torch.Tensor) -> torch.Tensor:
        if self.activation == "phase":
            return math.pi * torch.tanh(x)
        return amp_activation(self.activation, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.pad_object:
            return self._act(self.full(x))
        q = self.N // 4
        out = F.pad(self._act(self.central(x[:, : x.shape[1] - BORDER_CHANNELS])), (q, q, q, q))
        if self.probe_big:
            out = out + F.silu(self.border(x[:, x.shape[1] - BORDER_CHANNELS :])) * self.border_mask
        return out


class PhysicsScale(nn.Module):
    """Holds ``physics.log_scale`` (scalar w; predicted amplitude x exp(w))."""

    def __init__(self, trainable: bool) -> None:
        super().__init__()
        self.log_scale = nn.Parameter(torch.zeros(()), requires_grad=trainable)


class PtychoPINNNet(nn.Module):
    """Encoder, amplitude and phase decoders and heads; diffraction (B, C, N, N) -> object.

    ``forward`` returns the complex object patches ``(B, C_out, N, N)`` complex64 with
    ``C_out = C`` when ``object_big`` else 1. Weights start Glorot-uniform with zero bias.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        N, n, C = cfg.N, cfg.n_filters_scale, cfg.channels
        c_out = C if cfg.object_big else 1
        widths = encoder_widths(N, n)
        self.encoder = nn.ModuleList()
        c = C
        for f in widths:
            self.encoder.append(ConvBlock(c, f))
            c = f
        self.decoder_amp = nn.ModuleList()
        self.decoder_phase = nn.ModuleList()
        for stack in (self.decoder_amp, self.decoder_phase):
            c = widths[-1]
            for f in decoder_widths(N, n):
                stack.append(ConvBlock(c, f))
                c = f
        self.head_amp = Head(cfg, 32 * n, c_out, cfg.amp_activation)
        self.head_phase = Head(cfg, 32 * n, c_out, "phase")
        self.physics = PhysicsScale(cfg.intensity_scale_trainable)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        # NHWC kernels: oneDNN (CPU) and cuDNN run NHWC convolutions without layout copies.
        self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Diffraction amplitudes in network units (B, C, N, N) float -> object (B, C_out, N, N) complex64."""
        x = x.contiguous(memory_format=torch.channels_last)  # oneDNN / cuDNN fast path; same numbers
        for block in self.encoder:
            x = F.max_pool2d(block(x), 2)
        a = x
        for block in self.decoder_amp:
            a = F.interpolate(block(a), scale_factor=2, mode="nearest")
        p = x
        for block in self.decoder_phase:
            p = F.interpolate(block(p), scale_factor=2, mode="nearest")
        amp = self.head_amp(a).float()
        phase = self.head_phase(p).float()
        return torch.complex(amp * torch.cos(phase), amp * torch.sin(phase))
