"""The causal head (what a Numba coder re-implements): its neighbourhood, weights and reference.

With ``features`` f (C channels, C = ``head_hidden``) and normalized pixels
u, the head computes at each pixel (i, j), in this order::

    a = f[:, i, j] + sum_n conv_w[n] * u[i + dy_n, j + dx_n]   # (C,)
    h = relu(a)
    for l in range(n_layers):                                # 1x1 layers
        h = relu(layer_w[l] @ h + layer_b[l])
    params[:, i, j] = out_w @ h + out_b

The neighbours n = 0..N−1 are the offsets (dy, dx) of a k x k masked
convolution of type A (centre excluded), listed in raster order:
dy = −r..0, dx = −r..r, stopping before (0, 0), with r = k // 2. For k = 5
that is 12 neighbours: two full rows above, then the two pixels to the left.
A neighbour outside the image contributes nothing (zero padding of u).
``export_head`` gives these arrays in float64, ``head_params_reference`` is
the plain loop above, and ``causal_offsets(k)`` lists the offsets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from vaezip.models.vae import VAE


def causal_offsets(kernel_size: int) -> np.ndarray:
    """Offsets (dy, dx) of the type-A masked conv, in raster order, (N, 2) int64."""
    r = kernel_size // 2
    offsets = [(dy, dx) for dy in range(-r, 1) for dx in range(-r, r + 1)
               if (dy, dx) < (0, 0)]
    return np.array(offsets, dtype=np.int64)


def export_head(model: VAE) -> dict[str, np.ndarray]:
    """The causal head's weights as float64 numpy arrays, for a Numba coder.

    Keys: ``conv_w`` (N, C) neighbour weights in ``offsets`` order;
    ``offsets`` (N, 2) integer-valued (dy, dx); ``layer_w`` (L, C, C) and
    ``layer_b`` (L, C) for the 1x1 hidden layers (L may be 0); ``out_w``
    (P, C), ``out_b`` (P,); ``n_values`` (1,). See the module docstring.
    """
    if model.head is None:
        raise ValueError("this model is factorized: it has no causal head")
    head = model.head
    k = model.config.kernel_size
    r = k // 2
    offsets = causal_offsets(k)
    kernel = head.conv.weight.detach().to(torch.float64)[:, 0]  # (C, k, k)
    conv_w = torch.stack([kernel[:, dy + r, dx + r] for dy, dx in offsets])  # (N, C)
    c = model.config.head_hidden
    if head.layers:
        layer_w = torch.stack([layer.weight.detach()[:, :, 0, 0] for layer in head.layers])
        layer_b = torch.stack([layer.bias.detach() for layer in head.layers])
    else:
        layer_w, layer_b = torch.zeros(0, c, c), torch.zeros(0, c)
    arrays = {
        "conv_w": conv_w,
        "offsets": torch.from_numpy(offsets),
        "layer_w": layer_w,
        "layer_b": layer_b,
        "out_w": head.out.weight.detach()[:, :, 0, 0],
        "out_b": head.out.bias.detach(),
        "n_values": torch.tensor([model.config.n_values]),
    }
    return {key: np.ascontiguousarray(value.to(torch.float64).numpy())
            for key, value in arrays.items()}


def head_params_reference(features: np.ndarray, pixels: np.ndarray,
                          weights: dict[str, np.ndarray]) -> np.ndarray:
    """Plain-loop reference of the causal head: (B, C, H, W), (B, H, W) -> (B, P, H, W).

    Visits pixels in raster order and reads only already-visited pixels, as
    a decompressor must; this is the arithmetic a Numba coder reproduces.
    """
    batch, _, height, width = features.shape
    offsets = weights["offsets"].astype(np.int64)
    conv_w, layer_w, layer_b = weights["conv_w"], weights["layer_w"], weights["layer_b"]
    out_w, out_b = weights["out_w"], weights["out_b"]
    n_values = int(weights["n_values"][0])
    params = np.zeros((batch, out_w.shape[0], height, width))
    for b in range(batch):
        u = np.zeros((height, width))  # pixels not yet visited stay unread
        for i in range(height):
            for j in range(width):
                a = features[b, :, i, j].astype(np.float64).copy()
                for n in range(offsets.shape[0]):
                    y, x = i + offsets[n, 0], j + offsets[n, 1]
                    if 0 <= y < height and 0 <= x < width:
                        a += conv_w[n] * u[y, x]
                h = np.maximum(a, 0.0)
                for layer in range(layer_w.shape[0]):
                    h = np.maximum(layer_w[layer] @ h + layer_b[layer], 0.0)
                params[b, :, i, j] = out_w @ h + out_b
                u[i, j] = pixels[b, i, j] * (2.0 / (n_values - 1)) - 1.0
    return params
