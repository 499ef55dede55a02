"""A trained float VAE -> its ``IntegerModel``, calibrated on training images.

``convert(model, images)`` quantizes the encoder and the decoder layer by
layer (``converter``), adds the posterior's softplus as a table, the latent
table and the integer causal head, and checks the result is exact for every
input (``IntegerModel.check``). Post-training rounding with per-channel
power-of-two scales and bias correction costs the shipped models 0.0-0.2 %
of their −ELBO (``models/*.md``).
"""

from __future__ import annotations

import numpy as np
import torch

from vaezip.models.head import causal_offsets
from vaezip.models.integer import lower
from vaezip.models.integer.converter import Converter
from vaezip.models.integer.network import OUTPUT_FRAC, IntegerHead, IntegerModel, latent_table
from vaezip.models.integer.program import Op, Program, Table
from vaezip.models.integer.quantize import FLOAT64_BUDGET, Settings, Tables, channel_max, frac_for, quantize_affine
from vaezip.models.vae import SIGMA_MIN, VAE

OUTPUT_LIMIT = (1 << 31) - 1
LATENT_FRAC = 12  # decoder inputs: latent bucket centres in units of 2**-12
SIGMA_FRAC = 10  # the encoder's pre-softplus outputs, in units of 2**-10
FEATURE_BITS = 16  # the decoder's outputs for the head
HEAD_BITS = 20  # the head's hidden activations (it runs in float64: exact below 2**53)
HEAD_FEATURE_SHIFT = 8  # the head's first sums are 2**8 finer than the features


def softplus_table(frac_in: int) -> Table:
    """``sigma = max(1, round(2**16 * (softplus(x) + SIGMA_MIN)))`` for ``x = q * 2**-frac_in``;
    past the table (x >= 20) softplus(x) is x to within 2**-28."""
    one = 1 << frac_in
    low, high = -20 * one, 20 * one
    x = np.arange(low, high) / one
    exact = np.logaddexp(0.0, x) + SIGMA_MIN
    values = np.maximum(1, np.floor(exact * (1 << OUTPUT_FRAC) + 0.5)).astype(np.int64)
    shift = OUTPUT_FRAC - frac_in
    offset = int(np.floor(SIGMA_MIN * (1 << OUTPUT_FRAC) + 0.5))
    return Table(low=int(low), values=values, slope_shift=shift, offset=offset)


def convert(model: VAE, images: np.ndarray, settings: Settings | None = None, latent_bits: int = 12) -> IntegerModel:
    """The integer form of ``model``, its scales fitted on ``images`` (N, H, W) (about 1,000)."""
    settings = settings or Settings()
    model = model.double().eval()
    x = torch.as_tensor(np.asarray(images)).long()
    table = latent_table(latent_bits, LATENT_FRAC)
    with torch.no_grad():
        encoder = _encoder(model, x, settings)
        z = _latent_means(model, x, table)
        decoder = _decoder(model, z, settings, int(np.abs(table).max()))
        head = _head(model, x, z, decoder[1]) if model.config.head else None
    integer = IntegerModel(model.config, encoder, decoder[0], table, LATENT_FRAC, head)
    integer.check()
    return integer


def _encoder(model: VAE, x: torch.Tensor, settings: Settings) -> Program:
    """The encoder program: centred pixels -> means (2**-16 units), then standard deviations."""
    ops = lower.lower_encoder(model)
    t = lower.centred(x, model.config.n_values)
    lower.check(model.encoder(model.normalize(x)[:, None]), lower.run(ops, t))
    d = model.config.latent_dim
    tables = Tables()
    fracs = np.array([OUTPUT_FRAC] * d + [SIGMA_FRAC] * d)
    program, _ = Converter(ops, settings, tables).convert(t, np.zeros(1, dtype=np.int64), model.config.n_values - 1,
                                                          (fracs, OUTPUT_LIMIT))
    sigma = tables.get(("softplus", SIGMA_FRAC), lambda: softplus_table(SIGMA_FRAC))
    program.ops.append(Op("lut", table_of=np.array([-1] * d + [sigma] * d, dtype=np.int64)))
    return program


def _latent_means(model: VAE, x: torch.Tensor, table: np.ndarray) -> torch.Tensor:
    """The posterior means on the decoder's input grid. (Calibrating on posterior samples
    instead widens the scales and cost mnist 0.3 % more.)"""
    mu, _ = model.encode(x)
    zq = torch.floor(mu * (1 << LATENT_FRAC) + 0.5).clamp(float(table.min()), float(table.max()))
    return zq * 2.0 ** -LATENT_FRAC


def _decoder(model: VAE, z: torch.Tensor, settings: Settings, bound: int):
    """``(program, output fracs)``: latents -> features (head models) or raw parameters (2**-16 units)."""
    ops = lower.lower_decoder(model)
    features = lower.run(ops, z)
    lower.check(model.decoder(z), features)
    if model.config.head:
        limit = (1 << (FEATURE_BITS - 1)) - 1
        fracs = np.array([frac_for(m, limit) for m in channel_max(features)])
    else:
        fracs, limit = np.full(features.shape[1], OUTPUT_FRAC), OUTPUT_LIMIT
    if ops[-1][0] == "unflatten":  # a flat decoder's last layer has one output per feature
        fracs = np.repeat(fracs, int(np.prod(ops[-1][1][1:])))
    frac_in = np.full(model.config.latent_dim, LATENT_FRAC)
    return Converter(ops, settings, Tables()).convert(z, frac_in, bound, (fracs, limit), float64_last=True)


def _head(model: VAE, x: torch.Tensor, z: torch.Tensor, feature_frac: np.ndarray) -> IntegerHead:
    """The causal head in integers: neighbour weights at the features' scale times 2**8, layers
    calibrated on the float head's activations, parameters in units of 2**-16."""
    head, n = model.head, model.config.n_values
    offsets = causal_offsets(model.config.kernel_size)
    r = model.config.kernel_size // 2
    kernel = head.conv.weight.detach().double()[:, 0]
    frac_a = feature_frac + HEAD_FEATURE_SHIFT
    conv = np.stack([kernel[:, dy + r, dx + r].numpy() / (n - 1) for dy, dx in offsets])
    conv_q = np.floor(conv * np.exp2(frac_a)[None, :] + 0.5).astype(np.int64)
    high = ((1 << (FEATURE_BITS - 1)) - 1) * (1 << HEAD_FEATURE_SHIFT) + np.abs(conv_q).sum(axis=0) * (n - 1)
    bound, frac = (np.zeros_like(high), high), frac_a
    h = torch.relu(model.decoder(z) + head.conv(model.normalize(x)[:, None]))
    layers = []
    for layer in head.layers:
        h = torch.relu(layer(h))
        fracs = np.array([frac_for(m, (1 << (HEAD_BITS - 1)) - 1) for m in channel_max(h)])
        op = _head_linear(layer, frac, bound, fracs, (1 << (HEAD_BITS - 1)) - 1)
        layers.append(op)
        frac, bound = fracs, (np.zeros(len(fracs), dtype=np.int64), np.full(len(fracs), op.limit))
    out = _head_linear(head.out, frac, bound, np.full(head.out.weight.shape[0], OUTPUT_FRAC), OUTPUT_LIMIT)
    return IntegerHead(offsets, conv_q, HEAD_FEATURE_SHIFT, layers, out)


def _head_linear(layer, frac, bound, fracs, limit) -> Op:
    weight, bias = layer.weight.detach()[:, :, 0, 0], layer.bias.detach()
    wq, bq, shift = quantize_affine("linear", weight, bias, frac, bound, fracs, FLOAT64_BUDGET - 3)
    return Op("linear", wq, bq, shift, limit)
