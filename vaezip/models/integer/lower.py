"""A float VAE's encoder and decoder as flat lists of float operations.

The integer converter quantizes these step by step; ``run`` evaluates them
in float64 (and must equal the torch modules, which ``lower`` checks).
Operations mirror ``vaezip.models.integer.program``: ``("conv", params)``,
``("conv_transpose", params)``, ``("linear", params)``, ``("elu",)``,
``("relu",)``, ``("save",)``, ``("add",)``, ``("flatten",)``,
``("unflatten", shape)``. ``params`` hold float64 ``weight``, ``bias``,
``stride``, ``padding``.

Inputs: the encoder reads centred pixels ``t = 2v - (n_values - 1)`` (one
channel), so the first layer's weights absorb the normalization
``u = t / (n_values - 1)`` and zero padding of ``t`` is zero padding of ``u``.
The decoder reads the latent ``z``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vaezip.models import layers as L
from vaezip.models.vae import VAE


def centred(x, n_values: int) -> torch.Tensor:
    """Pixels 0..n-1 -> ``t = 2x - (n - 1)`` as float64 (B, 1, H, W)."""
    return (2 * torch.as_tensor(x).long() - (n_values - 1)).double()[:, None]


def lower_encoder(model: VAE) -> list[tuple]:
    ops, scale = [], 1.0 / (model.config.n_values - 1)
    for module in model.encoder.net:
        ops += _lower(module, scale)
        if ops and ops[-1][0] in ("conv", "linear"):
            scale = 1.0
    return ops


def lower_decoder(model: VAE) -> list[tuple]:
    dec = model.decoder
    if isinstance(dec, L.ConvDecoder):
        ops = _lower(dec.linear) + [("unflatten", dec.shape)]
        for module in dec.net:
            ops += _lower(module)
        return ops
    ops = []
    for module in dec.net:
        ops += _lower(module)
    return ops + [("unflatten", dec.shape)]


def _affine(module, kind: str, scale: float) -> tuple:
    params = dict(weight=module.weight.detach().double() * scale, bias=module.bias.detach().double())
    if kind != "linear":
        params.update(stride=module.stride[0], padding=module.padding[0])
    return (kind, params)


def _lower(module, scale: float = 1.0) -> list[tuple]:
    if isinstance(module, L.ResBlock):
        return [("save",), ("elu",), _affine(module.conv1, "conv", 1.0), ("elu",),
                _affine(module.conv2, "conv", 1.0), ("add",)]
    if isinstance(module, nn.ConvTranspose2d):
        return [_affine(module, "conv_transpose", scale)]
    if isinstance(module, nn.Conv2d):
        return [_affine(module, "conv", scale)]
    if isinstance(module, nn.Linear):
        return [_affine(module, "linear", scale)]
    simple = {nn.ELU: "elu", nn.ReLU: "relu", nn.Flatten: "flatten"}
    for cls, kind in simple.items():
        if isinstance(module, cls):
            return [(kind,)]
    raise TypeError(f"no integer form for {type(module).__name__}")


def run(ops: list[tuple], x: torch.Tensor, record: list | None = None) -> torch.Tensor:
    """Evaluate float ops on ``x``; ``record`` (a list) receives every op's output."""
    stack = []
    for op in ops:
        x = _step(op, x, stack)
        if record is not None:
            record.append(x)
    return x


def _step(op: tuple, x: torch.Tensor, stack: list) -> torch.Tensor:
    kind = op[0]
    if kind in ("conv", "conv_transpose", "linear"):
        p = op[1]
        if kind == "linear":
            return F.linear(x, p["weight"], p["bias"])
        conv = F.conv2d if kind == "conv" else F.conv_transpose2d
        return conv(x, p["weight"], p["bias"], p["stride"], p["padding"])
    if kind == "elu":
        return F.elu(x)
    if kind == "relu":
        return F.relu(x)
    if kind == "save":
        stack.append(x)
        return x
    if kind == "add":
        return stack.pop() + x
    if kind == "flatten":
        return x.flatten(1)
    if kind == "unflatten":
        return x.reshape(-1, *op[1])
    raise ValueError(kind)


def check(module_output: torch.Tensor, lowered_output: torch.Tensor) -> None:
    """AssertionError unless the lowered operations compute what the torch module does."""
    if not torch.allclose(module_output, lowered_output, atol=1e-8, rtol=1e-8):
        gap = float((module_output - lowered_output).abs().max())
        raise AssertionError(f"the lowered network differs from the module by {gap}")
