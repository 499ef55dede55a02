"""Bits-back coding (BB-ANS) with any latent-variable model.

To compress a batch ``x`` (decompression runs the same steps backwards)::

    z ~ p(z | x)     pop z from the quantized posterior   (takes bits back)
    push x | z       with the likelihood q(x | z)
    push z           with the prior (uniform over equal-mass buckets: latent_bits each)

so the net cost of a batch is ``-log q(x|z) - log q(z) + log p(z|x)``, its
−ELBO under the quantized posterior. The first batch of a stream has no bits
to take back: it must be a single image, whose latent is its posterior's
median bucket (``first=True``), and the decoder checks that it is.

The model is anything with this shape (numpy in, numpy out; see
``LatentModel``), so a user's own VAE plugs in without subclassing ours.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol, runtime_checkable

import numpy as np

from vaezip.codecs.base import Family
from vaezip.codecs.categorical import Categorical
from vaezip.codecs.detmath import log_
from vaezip.codecs.gaussian import GaussianLatent
from vaezip.codecs.uniform import Uniform, UniformBelow
from vaezip.rans import FormatError, Message
from vaezip.rans._jit import jit

INDEX_PRECISION = 16  # precision of the particle index j under the importance weights


@runtime_checkable
class LatentModel(Protocol):
    """What bits-back needs from a model.

    Attributes:
        latent_dim: number of latent dimensions D.
        likelihood: a model family that codes a batch of images given the
            keyword parameters ``decode`` returns (``likelihood.push(msg, x,
            **params)`` / ``likelihood.pop(msg, **params)``).

    Both methods see a whole batch, and must give identical outputs for
    identical inputs on the compress and decompress side (same machine,
    same batch composition).
    """

    latent_dim: int
    likelihood: Family

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior ``(mean, std)`` of shape ``(B, latent_dim)`` for images ``x`` (B, ...)."""

    def decode(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """Likelihood parameters for latents ``z`` of shape ``(B, latent_dim)``."""


def push_batch(msg: Message, x: np.ndarray, model: LatentModel, latent: GaussianLatent, first: bool = False) -> None:
    """Compress the batch ``x`` onto ``msg`` (``first``: a single image, no bits to take back)."""
    mean, std = model.encode(x)
    if first:
        if len(x) != 1:
            raise ValueError("the first batch of a stream must hold exactly one image")
        z = latent.median(mean)
    else:
        z = latent.pop(msg, mean=mean, std=std)
    model.likelihood.push(msg, x, **model.decode(latent.centres[z]))
    latent.push_prior(msg, z)


def pop_batch(msg: Message, count: int, model: LatentModel, latent: GaussianLatent, first: bool = False) -> np.ndarray:
    """Decompress a batch of ``count`` images from ``msg`` (the inverse of ``push_batch``)."""
    z = latent.pop_prior(msg, (count, model.latent_dim))
    x = model.likelihood.pop(msg, **model.decode(latent.centres[z]))
    mean, std = model.encode(x)
    if first:
        if not np.array_equal(z, latent.median(mean)):
            raise FormatError(
                "the first image's latent is not its posterior median: the data is corrupt "
                "or was compressed with another model"
            )
    else:
        latent.push(msg, z, mean=mean, std=std)
    return x


# -- importance-sampled bits-back (BB-IS) ------------------------------------------------
# Ruan et al., "Improving Lossless Compression Rates via Monte Carlo Bits-Back
# Coding" (ICML 2021). Per image, with K particles:
#   pop z_1..z_K from the posterior; pop j with P(j) proportional to w_j =
#   q(x|z_j) q(z_j) / p(z_j|x); push the other K-1 particles back under the
#   posterior; push x | z_j, z_j under the prior, and j uniformly.
# The net cost is -log((1/K) sum_k w_k) plus the quantization of P(j). Every
# w_k is computed from the coded (quantized) probabilities, by the Numba
# function below in a fixed order, so both sides get the same doubles.
@jit
def _bits(freqs, precision, out):
    """``out[r] = sum_i (precision - log2 freqs[r, i])``, summed in index order."""
    inv_ln2 = 1.0 / log_(2.0)
    for r in range(freqs.shape[0]):
        total = 0.0
        for i in range(freqs.shape[1]):
            total += precision - log_(float(freqs[r, i])) * inv_ln2
        out[r] = total


def _code_bits(freqs: np.ndarray, precision: int) -> np.ndarray:
    """Exact code length in bits of each row of ``freqs`` (rows = leading axis)."""
    flat = np.ascontiguousarray(freqs.reshape(freqs.shape[0], -1), dtype=np.int64)
    out = np.empty(flat.shape[0])
    _bits(flat, precision, out)
    return out


def log_weights(x, z, mean, std, model: LatentModel, latent: GaussianLatent) -> np.ndarray:
    """Natural-log importance weights ``log q(x|z_k) q(z_k) / p(z_k|x)``, shape (B, K).

    ``z`` holds bucket indices (B, K, D); all B*K decoder evaluations run in one batch.
    """
    count, particles, dims = z.shape
    flat_z = z.reshape(count * particles, dims)
    params = model.decode(latent.centres[flat_z])
    x_rep = np.repeat(np.asarray(x), particles, axis=0)
    _, x_freqs = model.likelihood.interval(x_rep, **params)
    like_bits = _code_bits(x_freqs, model.likelihood.precision)
    _, z_freqs = latent.interval(z, mean=mean[:, None, :], std=std[:, None, :])
    post_bits = _code_bits(z_freqs.reshape(count * particles, dims), latent.precision)
    log2_w = post_bits - like_bits - latent.latent_bits * dims
    return (log2_w * log_(2.0)).reshape(count, particles)


def _push_chosen(msg: Message, x, chosen, j, model: LatentModel, latent: GaussianLatent, particles: int) -> None:
    """The last pushes of BB-IS and BB-CIS: x | z_j, z_j under the prior, j uniformly."""
    model.likelihood.push(msg, x, **model.decode(latent.centres[chosen]))
    latent.push_prior(msg, chosen)
    Uniform(particles).push(msg, j)


def _pop_chosen(msg: Message, count: int, model: LatentModel, latent: GaussianLatent, particles: int):
    """The first pops of BB-IS and BB-CIS decoding: ``(j, z_j, x, mean, std)``."""
    j = Uniform(particles).pop(msg, (count,))
    chosen = latent.pop_prior(msg, (count, model.latent_dim))
    x = model.likelihood.pop(msg, **model.decode(latent.centres[chosen]))
    mean, std = model.encode(x)
    return j, chosen, x, mean, std


def push_batch_is(msg: Message, x: np.ndarray, model: LatentModel, latent: GaussianLatent, particles: int) -> None:
    """Compress the batch ``x`` with BB-IS and ``particles`` particles (K = 1 is ``push_batch``)."""
    count = len(x)
    mean, std = model.encode(x)
    shape = (count, particles, model.latent_dim)
    z = latent.pop(msg, mean=np.broadcast_to(mean[:, None, :], shape), std=np.broadcast_to(std[:, None, :], shape))
    j = Categorical(INDEX_PRECISION).pop(msg, logits=log_weights(x, z, mean, std, model, latent))
    keep = np.ones((count, particles), dtype=bool)
    keep[np.arange(count), j] = False
    others = z[keep].reshape(count, particles - 1, model.latent_dim)
    other_shape = others.shape
    latent.push(msg, others, mean=np.broadcast_to(mean[:, None, :], other_shape),
                std=np.broadcast_to(std[:, None, :], other_shape))
    _push_chosen(msg, x, z[np.arange(count), j], j, model, latent, particles)


def pop_batch_is(msg: Message, count: int, model: LatentModel, latent: GaussianLatent, particles: int) -> np.ndarray:
    """Decompress a batch pushed by ``push_batch_is``."""
    j, chosen, x, mean, std = _pop_chosen(msg, count, model, latent, particles)
    other_shape = (count, particles - 1, model.latent_dim)
    others = latent.pop(msg, mean=np.broadcast_to(mean[:, None, :], other_shape),
                        std=np.broadcast_to(std[:, None, :], other_shape))
    z = np.empty((count, particles, model.latent_dim), dtype=np.int64)
    keep = np.ones((count, particles), dtype=bool)
    keep[np.arange(count), j] = False
    z[keep] = others.reshape(-1, model.latent_dim)
    z[np.arange(count), j] = chosen
    Categorical(INDEX_PRECISION).push(msg, j, logits=log_weights(x, z, mean, std, model, latent))
    shape = z.shape
    latent.push(msg, z, mean=np.broadcast_to(mean[:, None, :], shape), std=np.broadcast_to(std[:, None, :], shape))
    return x


# -- coupled importance sampling (BB-CIS) ------------------------------------------------
# The K particles of an image come from one shared draw: u (one value in
# [0, 2**precision) per latent dimension d) is popped uniformly, and particle
# k is, in each dimension, the posterior bucket whose interval holds
# (u_d + o_kd) mod 2**precision with fixed offsets o_kd (``coupled_offsets``).
# Any fixed offsets make each particle alone an exact draw from the
# quantized posterior, so the weights are those of BB-IS; but the clean bits
# popped are precision bits per dimension, not K posterior draws. After j is
# popped, u is pushed back given z_j: its offset inside z_j's interval,
# uniform over freq(z_j) values. Net cost per image: -log((1/K) sum_k w_k).
#
# The offsets stratify each dimension (o_kd runs over floor(m 2**precision / K),
# m = 0..K-1) with a different affine permutation of k per dimension, so
# the particles spread like a Latin hypercube. Shifting every dimension by
# the same k/K instead puts the K particles on one line and cost 0.3 bits
# per binarized digit more than independent draws at K = 64; these offsets
# cost the same as independent draws (measured on 100 mnist-bin-test digits).
_MASK64 = (1 << 64) - 1


def _mix(value: int) -> int:
    """splitmix64's output function: a fixed integer hash (exact in Python ints)."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


@lru_cache(maxsize=64)
def coupled_offsets(particles: int, dims: int, precision: int) -> np.ndarray:
    """The offsets o (K, D) of BB-CIS: o[k, d] = floor(((a_d k + b_d) mod K) 2**precision / K),
    with a_d the first integer from ``_mix(2d) mod K`` up that is coprime with K, and
    b_d = ``_mix(2d + 1) mod K``."""
    import math

    out = np.empty((particles, dims), dtype=np.int64)
    k = np.arange(particles, dtype=np.int64)
    for d in range(dims):
        a = _mix(2 * d) % particles
        while math.gcd(a, particles) != 1:
            a = (a + 1) % particles
        b = _mix(2 * d + 1) % particles
        out[:, d] = (((a * k + b) % particles) << precision) // particles
    out.flags.writeable = False
    return out


def coupled_particles(u, mean, std, latent: GaussianLatent, particles: int):
    """``(z, starts, freqs, cf)`` of the K coupled particles of shared draws ``u`` (B, D).

    All four have shape (B, K, D); ``cf`` is each particle's point in
    ``[0, 2**precision)`` and ``[starts, starts + freqs)`` its bucket's interval.
    """
    mask = (1 << latent.precision) - 1
    u = np.asarray(u, dtype=np.int64)
    cf = (u[:, None, :] + coupled_offsets(particles, u.shape[1], latent.precision)[None]) & mask
    shape = cf.shape
    z, starts, freqs = latent.locate(cf, mean=np.broadcast_to(mean[:, None, :], shape),
                                     std=np.broadcast_to(std[:, None, :], shape))
    return z, starts, freqs, cf


def push_batch_cis(msg: Message, x: np.ndarray, model: LatentModel, latent: GaussianLatent, particles: int) -> None:
    """Compress the batch ``x`` with BB-CIS and ``particles`` coupled particles."""
    count, rows = len(x), np.arange(len(x))
    mean, std = model.encode(x)
    u = Uniform(1 << latent.precision).pop(msg, (count, model.latent_dim))
    z, starts, freqs, cf = coupled_particles(u, mean, std, latent, particles)
    j = Categorical(INDEX_PRECISION).pop(msg, logits=log_weights(x, z, mean, std, model, latent))
    chosen = z[rows, j]
    UniformBelow().push(msg, cf[rows, j] - starts[rows, j], n=freqs[rows, j])
    _push_chosen(msg, x, chosen, j, model, latent, particles)


def pop_batch_cis(msg: Message, count: int, model: LatentModel, latent: GaussianLatent, particles: int) -> np.ndarray:
    """Decompress a batch pushed by ``push_batch_cis``."""
    j, chosen, x, mean, std = _pop_chosen(msg, count, model, latent, particles)
    starts, freqs = latent.interval(chosen, mean=mean, std=std)
    offset = UniformBelow().pop(msg, n=freqs)
    mask = (1 << latent.precision) - 1
    u = (starts + offset - coupled_offsets(particles, model.latent_dim, latent.precision)[j]) & mask
    z = coupled_particles(u, mean, std, latent, particles)[0]  # z[rows, j] == chosen by construction
    Categorical(INDEX_PRECISION).push(msg, j, logits=log_weights(x, z, mean, std, model, latent))
    Uniform(1 << latent.precision).push(msg, u)
    return x


# -- streams -----------------------------------------------------------------------------
RAMP = 4  # plain bits-back: a batch is at most 1/RAMP of the images already coded
COUPLED_RAMP = 8  # BB-CIS pops precision bits per latent dimension up front
PLAIN_START = 4  # with K > 1, batches starting before this image are still plain bits-back


def ramp(particles: int = 1, coupled: bool = False) -> int:
    """The batch-growth divisor of a stream (see ``batch_schedule``).

    A batch pops the latents of all its images before pushing any, so the
    bits already on the stream must cover them. Plain bits-back pops about
    one posterior draw per latent (binarized digits: 2.8 times an image's
    net cost), BB-CIS ``precision`` bits per latent (binarized digits with
    32 latents at precision 20: 4.9 times), BB-IS K posterior draws.
    """
    if particles == 1:
        return RAMP
    return COUPLED_RAMP if coupled else RAMP * particles


def batch_schedule(count: int, batch_size: int, divisor: int = RAMP) -> list[tuple[int, int]]:
    """``(start, stop)`` of each batch of a stream of ``count`` images.

    The first batch is one image (coded with its median latent). Each later
    batch pops all its latents before pushing anything, so it needs clean
    bits for the whole batch: its size is at most ``1/divisor`` of the images
    already coded (at least 1, at most ``batch_size``). That suffices while
    an image's clean-bit need stays under ``divisor`` times its net cost;
    otherwise the coder borrows filler words, which cost 32 bits each but
    stay correct.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if divisor < 1:
        raise ValueError("divisor must be at least 1")
    bounds, start = [], 0
    while start < count:
        size = 1 if start == 0 else min(batch_size, max(1, start // divisor))
        stop = min(start + size, count)
        bounds.append((start, stop))
        start = stop
    return bounds


def _pushers(particles: int, coupled: bool):
    if particles == 1:
        return None
    return push_batch_cis if coupled else push_batch_is


def push_stream(msg: Message, images: np.ndarray, model: LatentModel, latent: GaussianLatent, batch_size: int,
                particles: int = 1, coupled: bool = False, sizes: np.ndarray | None = None,
                done=None) -> None:
    """Compress a stream of images: the first with its median latent, then bits-back batches
    (BB-IS with ``particles`` particles when it is over 1, coupled (BB-CIS) if ``coupled``).
    Batches that start before image ``PLAIN_START`` stay plain bits-back: the stream
    holds too few bits yet for the larger pop of importance sampling.

    ``sizes``, if given (float array, one per image), receives each image's share of
    the bits: its batch's net bits split evenly. ``done``, if given, is called with
    each batch's image count once it is pushed (progress reports).
    """
    pusher = _pushers(particles, coupled)
    for i, (start, stop) in enumerate(batch_schedule(len(images), batch_size, ramp(particles, coupled))):
        before = msg.num_bits()
        if pusher is None or start < PLAIN_START:
            push_batch(msg, images[start:stop], model, latent, first=i == 0)
        else:
            pusher(msg, images[start:stop], model, latent, particles)
        if sizes is not None:
            sizes[start:stop] = (msg.num_bits() - before) / (stop - start)
        if done is not None:
            done(stop - start)


def pop_stream(msg: Message, count: int, model: LatentModel, latent: GaussianLatent, batch_size: int,
               particles: int = 1, coupled: bool = False, dtype=np.int64, done=None) -> np.ndarray:
    """Decompress ``count`` images pushed by ``push_stream`` (batches in reverse order),
    as one array of ``dtype`` (which must hold the model's pixel values); ``done`` as in ``push_stream``."""
    popper = None if particles == 1 else (pop_batch_cis if coupled else pop_batch_is)
    out = None
    schedule = batch_schedule(count, batch_size, ramp(particles, coupled))
    for i, (start, stop) in reversed(list(enumerate(schedule))):
        if popper is None or start < PLAIN_START:
            batch = pop_batch(msg, stop - start, model, latent, first=i == 0)
        else:
            batch = popper(msg, stop - start, model, latent, particles)
        if out is None:
            out = np.empty((count,) + batch.shape[1:], dtype=dtype)
        out[start:stop] = batch
        if done is not None:
            done(stop - start)
    return out if out is not None else np.empty((0,), dtype=dtype)
