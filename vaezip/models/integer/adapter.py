"""An ``IntegerModel`` as a bits-back ``LatentModel``, exact on every machine, and as a density model.

``IntegerLatentModel`` runs the encoder and decoder programs on the fast
engine (``engine.verified``: checked against ``exact64`` on a probe batch
when built), the head inside the likelihood codec, and hands the coder only
integers times powers of two. ``IntegerDensityModel`` gives ``vaezip.models.
density`` the same networks (``encode`` and ``log_likelihood`` in nats), so a
report's −ELBO and importance-sampled estimate are those of the integer
model that codes.
"""

from __future__ import annotations

import numpy as np
import torch

from vaezip.codecs import AutoregressiveBernoulli, AutoregressiveMixture, Bernoulli, LogisticMixture
from vaezip.codecs.autoregressive import mixture_scales
from vaezip.models.integer import engine as E
from vaezip.models.integer import exact64
from vaezip.models.integer.network import OUTPUT_FRAC, IntegerModel
from vaezip.models.integer.program import rounding_half

PROBE_SEED = 0
PROBE_IMAGES = 3
UNIT = 2.0 ** -OUTPUT_FRAC


def head_weights(model: IntegerModel) -> dict:
    """The integer head as ``AutoregressiveMixture``/``AutoregressiveBernoulli`` weights."""
    head = model.head
    channels = head.conv.shape[1]

    def offset(op):  # bias plus rounding half: the kernels add it first, then the products
        return (op.bias + rounding_half(op.shift)).astype(np.float64)

    return {
        "conv_w": head.conv.astype(np.float64), "offsets": head.offsets,
        "layer_w": np.array([op.weight for op in head.layers], dtype=np.float64).reshape(-1, channels, channels),
        "layer_b": np.array([offset(op) for op in head.layers], dtype=np.float64).reshape(-1, channels),
        "layer_shift": [op.shift for op in head.layers], "layer_limit": [op.limit for op in head.layers],
        "out_w": head.out.weight.astype(np.float64), "out_b": offset(head.out), "out_shift": head.out.shift,
        "out_limit": head.out.limit, "feature_shift": head.feature_shift, "param_frac": OUTPUT_FRAC,
        "n_values": np.array([model.config.n_values]),
    }


def engines(model: IntegerModel, decoder_bound: int | None = None):
    """``(encoder, decoder)`` engines, each checked on a seeded probe batch (``engine.verified``)."""
    rng = np.random.default_rng(PROBE_SEED)
    config = model.config
    pixels = rng.integers(0, config.n_values, (PROBE_IMAGES, 1, config.height, config.width))
    t = torch.from_numpy(2 * pixels - (config.n_values - 1)).float()
    latents = torch.from_numpy(rng.choice(model.latent_table, (PROBE_IMAGES, config.latent_dim))).double()
    encoder = E.verified(model.encoder, config.n_values - 1, t)
    decoder = E.verified(model.decoder, decoder_bound or model.latent_bound, latents)
    return encoder, decoder


class IntegerLatentModel:
    """Bits-back's ``LatentModel`` for an integer model (see the module docstring)."""

    def __init__(self, model: IntegerModel, precision: int = 16):
        config = model.config
        self.model, self.config = model, config
        self.latent_dim, self.shape, self.n_values = config.latent_dim, (config.height, config.width), config.n_values
        self.encoder, self.decoder = engines(model)
        binary = config.n_values == 2
        if config.head:
            weights = head_weights(model)
            self.likelihood = (AutoregressiveBernoulli(weights, precision) if binary
                               else AutoregressiveMixture(weights, config.mixtures, precision))
        else:
            self.likelihood = Bernoulli(precision) if binary else LogisticMixture(8, precision)

    @property
    def exact_fallback(self) -> bool:
        """Whether the start-up check sent either network to the slow exact engine."""
        return isinstance(self.encoder, E.ExactEngine) or isinstance(self.decoder, E.ExactEngine)

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = torch.from_numpy(2 * np.asarray(x, dtype=np.float32) - (self.n_values - 1))[:, None]
        with E.exact_kernels():
            q = self.encoder.run(t).double().numpy()
        d = self.latent_dim
        return q[:, :d] * UNIT, q[:, d:] * UNIT

    def decode(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """Likelihood parameters for latent bucket centres ``z`` (the decoder reads ``latent_table``'s
        integers, which are these centres rounded to ``2**-latent_frac``)."""
        zq = np.floor(np.asarray(z, dtype=np.float64) * (1 << self.model.latent_frac) + 0.5)
        with E.exact_kernels():
            out = self.decoder.run(torch.from_numpy(zq))
        if self.config.head:
            return {"features": out.float().numpy()}  # integers below 2**24: exact in float32
        params = out.double().numpy() * UNIT
        if self.n_values == 2:
            return {"logit": params[:, 0]}
        return _mixture(params, self.config.mixtures, self.n_values)


def _mixture(params: np.ndarray, k: int, n_values: int) -> dict[str, np.ndarray]:
    """Raw factorized mixture parameters (B, 3K, H, W) -> ``LogisticMixture`` keywords (deterministic scales)."""
    p = np.moveaxis(params, 1, -1)
    half = (n_values - 1) / 2.0
    return {"logits": p[..., :k], "means": (p[..., k:2 * k] + 1.0) * half,
            "scales": mixture_scales(p[..., 2 * k:3 * k], n_values)}


DENSITY_LATENT_BOUND = (1 << 15) - 1  # |z| below 8 (in units of 2**-12) for the estimates


class IntegerDensityModel:
    """``encode`` and ``log_likelihood`` (nats) of the integer networks, for ``density.estimate``.

    As for the float model, latent samples are continuous: rounded to ``2**-latent_frac``, not to
    the coder's buckets, and not limited to the latent table's range (up to |z| < 8), so the
    figures compare with the float model's; the likelihood is the float one of the integer
    parameters.
    """

    def __init__(self, model: IntegerModel, float_model):
        self.model, self.float_model = model, float_model.double().eval()
        self.config = model.config
        self.n_dims = self.config.height * self.config.width
        self.encoder, self.decoder = engines(model, DENSITY_LATENT_BOUND)

    def encode(self, x):
        t = torch.from_numpy(2 * np.asarray(x, dtype=np.float32) - (self.config.n_values - 1))[:, None]
        with E.exact_kernels():
            q = self.encoder.run(t).double()
        d = self.config.latent_dim
        return q[:, :d] * UNIT, q[:, d:] * UNIT

    def log_likelihood(self, x, z):
        bound = DENSITY_LATENT_BOUND
        zq = torch.floor(z * (1 << self.model.latent_frac) + 0.5).clamp(-bound, bound)
        with E.exact_kernels():
            out = self.decoder.run(zq).double()
        x = torch.as_tensor(x)
        if self.model.head is not None:
            out = exact64.head(self.model.head, self.config.n_values, out, x)
        params = out * UNIT
        return self.float_model.log_prob(params, x).flatten(1).sum(dim=1)
