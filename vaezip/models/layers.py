"""The layers of vaezip's networks: residual convolutions, the encoders and decoders, the causal head."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from vaezip.models.config import VAEConfig
from vaezip.models.head import causal_offsets


class ResBlock(nn.Module):
    """x + conv(act(conv(act(x)))), 3x3 convolutions, same channels."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.elu(self.conv1(F.elu(x))))


class MaskedConv(nn.Conv2d):
    """A k x k convolution of type A: sees only pixels before the centre."""

    def __init__(self, out_channels: int, kernel_size: int) -> None:
        super().__init__(1, out_channels, kernel_size, padding=kernel_size // 2, bias=False)
        mask = torch.zeros(kernel_size, kernel_size)
        r = kernel_size // 2
        for dy, dx in causal_offsets(kernel_size):
            mask[dy + r, dx + r] = 1.0
        self.register_buffer("mask", mask[None, None], persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, None, padding=self.padding)


class CausalHead(nn.Module):
    """Features + already-coded neighbours -> raw likelihood parameters."""

    def __init__(self, hidden: int, n_layers: int, n_params: int, kernel_size: int) -> None:
        super().__init__()
        self.conv = MaskedConv(hidden, kernel_size)
        self.layers = nn.ModuleList(nn.Conv2d(hidden, hidden, 1) for _ in range(n_layers))
        self.out = nn.Conv2d(hidden, n_params, 1)

    def forward(self, features: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        h = F.relu(features + self.conv(u[:, None]))
        for layer in self.layers:
            h = F.relu(layer(h))
        return self.out(h)


class ConvEncoder(nn.Module):
    """(B, 1, H, W) -> (B, 2 * latent_dim): residual conv net, two downsamplings."""

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        c = config.channels
        self.net = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1), ResBlock(c),
            nn.Conv2d(c, 2 * c, 4, stride=2, padding=1), ResBlock(2 * c),
            nn.Conv2d(2 * c, 2 * c, 4, stride=2, padding=1), ResBlock(2 * c),
            nn.ELU(), nn.Flatten(),
            nn.Linear(2 * c * (config.height // 4) * (config.width // 4), 2 * config.latent_dim),
        )

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return self.net(u)


class ConvDecoder(nn.Module):
    """(B, latent_dim) -> (B, out_channels, H, W): residual conv net, two upsamplings."""

    def __init__(self, config: VAEConfig, out_channels: int) -> None:
        super().__init__()
        c = config.channels
        self.shape = (2 * c, config.height // 4, config.width // 4)
        self.linear = nn.Linear(config.latent_dim, math.prod(self.shape))
        self.net = nn.Sequential(
            ResBlock(2 * c),
            nn.ConvTranspose2d(2 * c, 2 * c, 4, stride=2, padding=1), ResBlock(2 * c),
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1), ResBlock(c),
            nn.ELU(), nn.Conv2d(c, out_channels, 1),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.linear(z).view(-1, *self.shape))


class MLPEncoder(nn.Module):
    """(B, 1, H, W) -> (B, 2 * latent_dim): one hidden layer."""

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(config.height * config.width, config.hidden), nn.ReLU(),
            nn.Linear(config.hidden, 2 * config.latent_dim),
        )

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return self.net(u)


class MLPDecoder(nn.Module):
    """(B, latent_dim) -> (B, out_channels, H, W): one hidden layer."""

    def __init__(self, config: VAEConfig, out_channels: int) -> None:
        super().__init__()
        self.shape = (out_channels, config.height, config.width)
        self.net = nn.Sequential(
            nn.Linear(config.latent_dim, config.hidden), nn.ReLU(),
            nn.Linear(config.hidden, math.prod(self.shape)),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, *self.shape)
