"""Which coder codes each picture, and with which zoo model: the plan of an archive.

Which coder codes a picture (the rules ``choose_model`` and ``plan`` apply):

1. A zoo model *fits* a picture when the picture has the model's height and
   width and its pixel kind: mode ``1`` for a binary model (Bernoulli
   likelihood), mode ``L`` for an 8-bit model.
2. Without ``model=``, the archive's model is the zoo model that fits the
   most pictures; when several fit equally many (``mnist`` and ``fashion``
   both fit 28x28 grey images), the one with the lower −ELBO on them
   (posterior-mean pass over at most 64 of them).
3. A fitting picture is coded by the VAE with bits-back, unless the
   model-free coder (``vaezip.codecs.planar``) codes it in fewer bits than
   the VAE's −ELBO estimate. This is checked only when every fitting
   picture is estimated (``estimate_images`` at least their number): with
   no estimates, or estimates of a subset (the default when estimates are
   asked for, see ``estimate_count``), every fitting picture goes to the
   VAE, so the file does not depend on which pictures the subset drew.
4. A picture of the model's pixel kind that is larger than the model's
   input (at least one full tile) is cut into tiles by ``vaezip.images.tiling``;
   each full tile whose one-sample −ELBO is below what the model-free coder
   spends on that tile alone is coded by the VAE, every other tile by the
   model-free coder, all in the picture's one stream (coder ``per-tile``) —
   when the estimated total is below the model-free coder's on the whole
   picture. A first look at up to 16 tiles spread over the picture skips
   pictures (photographs, say) where those tiles, each coded the cheaper
   way, would not take 10 % fewer bits than their share of the whole
   picture coded model-free. Before that, without loading the model, a
   picture of at least ``PRESCREEN_TILES`` full tiles is looked at only if
   one of those tiles has ``BACKGROUND_SHARE`` of its pixels at 0: every
   zoo model was trained on objects on a black background (MNIST: 80 % of
   pixels are 0, Fashion-MNIST 51 %, no image under 15 %), and a tile with
   almost no background (a photograph's) is coded better model-free, so a
   photograph is coded without starting torch. Without an
   exact fit, the archive's model is the one that can tile the most
   pictures that pass (ties as in rule 2, on their tiles).
5. Every other picture, plane by plane, goes to the model-free coder; a
   picture any coder would make larger than its PNG is stored as that PNG,
   so no file is much larger than its PNG.

``plan`` applies them all (rule 5's stored PNG is decided after coding,
``vaezip.pipeline.encoding``); ``choose_model`` is rule 2 alone, and
``default_streams`` says how many streams the VAE pictures are cut into.
"""

from __future__ import annotations

import math

import numpy as np

from vaezip import format as vz
from vaezip.images import Picture
from vaezip.pipeline.settings import MAX_STREAMS, MIN_STREAM_BITS

ESTIMATE_IMAGES = 200  # the most pictures the report's estimates cover by default
ESTIMATE_MIN = 8  # ... and the fewest (or all, when fewer are VAE-coded)
ESTIMATE_EVERY = 16  # one picture estimated per ESTIMATE_EVERY * K VAE-coded ones: under 10 % of coding time
PROBE_TILES = 16  # tiles looked at before a picture's every tile is estimated
PROBE_GAIN = 0.9  # ... which must promise at least 10 % fewer bits than the whole picture model-free
PRESCREEN_TILES = 64  # pictures with this many full tiles are screened before the model is loaded
BACKGROUND_SHARE = 0.1  # ... and probed only if a probe tile has this share of its pixels at 0


def fits(info, picture: Picture) -> bool:
    """Whether the zoo model ``info`` can code ``picture`` (rule 1 of the module docstring)."""
    return (picture.height, picture.width, picture.mode) == _model_key(info)


def _shapes(pictures: list[Picture]) -> dict[tuple[int, int, str], int]:
    """How many pictures there are of each (height, width, mode)."""
    counts: dict[tuple[int, int, str], int] = {}
    for p in pictures:
        key = (p.pixels.shape[0], p.pixels.shape[1], p.mode)
        counts[key] = counts.get(key, 0) + 1
    return counts


def default_streams(info, vae_images: int) -> int:
    """Streams for ``vae_images`` images (or tiles) of the zoo model ``info`` when the caller names none.

    One stream per ``MIN_STREAM_BITS`` of expected code (the pixels times the
    model's test −ELBO in bits per dimension, or the raw bit depth for a model
    without one), rounded down to a power of two so that 2, 4 or 8 cores share
    the streams evenly; 1..``MAX_STREAMS``. The rule looks at the data and the
    model only, never at the machine, so the same input gives the same file
    everywhere.
    """
    height, width = info.input_shape
    bpd = info.rates.get("test_neg_elbo_bpd") or math.log2(info.config.get("n_values", 256))
    count = int(min(MAX_STREAMS, vae_images * height * width * bpd // MIN_STREAM_BITS))
    return 1 << (count.bit_length() - 1) if count >= 1 else 1


def _model_key(info) -> tuple[int, int, str]:
    """The (height, width, mode) of the pictures the zoo model ``info`` codes."""
    config = info.config
    return config.get("height"), config.get("width"), "1" if config.get("n_values") == 2 else "L"


def choose_model(pictures: list[Picture], model: str | None = None) -> str:
    """The zoo model for these pictures (rule 2), ``model`` if given, or ``"none"``."""
    from vaezip.models import zoo

    if model is not None:
        if model == vz.MODEL_FREE:
            return model
        zoo.get_info(model)  # a clear ModelError for an unknown name
        return model
    infos = zoo.list_models()
    shapes = _shapes(pictures)
    counts = {info.name: shapes.get(_model_key(info), 0) for info in infos}
    best = max(counts.values(), default=0)
    tiling = best == 0
    if tiling:  # no exact fit: the models that can tile the most pictures
        counts = {info.name: _tiling_count(pictures, _model_key(info)) for info in infos}
        best = max(counts.values(), default=0)
        if best == 0:
            return vz.MODEL_FREE
    tied = [info for info in infos if counts[info.name] == best]
    if len(tied) == 1:
        return tied[0].name
    return min(tied, key=lambda info: _quick_neg_elbo(info, pictures, tiling)).name


def _tileable(key: tuple[int, int, str], model_key: tuple[int, int, str]) -> bool:
    """Whether pictures of ``key`` (height, width, mode) hold a full tile of the model, without fitting it."""
    return key[2] == model_key[2] and key != model_key and key[0] >= model_key[0] and key[1] >= model_key[1]


def _tiling_count(pictures: list[Picture], model_key: tuple[int, int, str]) -> int:
    """How many ``pictures`` hold a full tile of the model and pass rule 4's prescreen."""
    return sum(1 for p in pictures if _tileable((p.height, p.width, p.mode), model_key) and _worth_probing(p, model_key))


def _worth_probing(picture: Picture, key: tuple[int, int, str]) -> bool:
    """Rule 4's prescreen (no model needed): small pictures pass; a larger one passes when one of its
    probe tiles has at least ``BACKGROUND_SHARE`` of its pixels at 0."""
    full = _full_tiles(picture, key[0], key[1])
    if len(full) < PRESCREEN_TILES:
        return True
    probe = full[::max(1, len(full) // PROBE_TILES)][:PROBE_TILES]
    return any(np.count_nonzero(tile == 0) >= BACKGROUND_SHARE * tile.size for tile in probe)


def _full_tiles(picture: Picture, tile_height: int, tile_width: int) -> list[np.ndarray]:
    from vaezip.images.tiling import is_full, split, tile_bounds

    bounds = tile_bounds(picture.height, picture.width, tile_height, tile_width)
    return [t for t, b in zip(split(picture.pixels[:, :, 0], bounds), bounds) if is_full(b, tile_height, tile_width)]


def _quick_neg_elbo(info, pictures: list[Picture], tiles: bool = False) -> float:
    """Mean −ELBO (posterior mean as the one sample; float32) of up to 64 fitting pictures (or,
    with ``tiles``, of up to ``PROBE_TILES`` full tiles spread over each tileable picture), in nats."""
    import torch

    from vaezip.models import zoo

    if tiles:
        key = _model_key(info)
        found = []
        for p in pictures:
            if _tileable((p.height, p.width, p.mode), key) and len(found) < 64:
                full = _full_tiles(p, key[0], key[1])
                found += full[::max(1, len(full) // PROBE_TILES)][:PROBE_TILES]
        images = np.stack(found[:64]).astype(np.int64)
    else:
        images = np.stack([p.pixels[:, :, 0] for p in pictures if fits(info, p)][:64]).astype(np.int64)
    model = zoo.load_model(info.name, dtype=torch.float32)
    with torch.no_grad():
        x = torch.from_numpy(images)
        mu, sigma = model.encode(x)
        kl = 0.5 * (mu.square() + sigma.square() - 1.0 - 2.0 * torch.log(sigma)).sum(dim=1)
        return float((kl - model.log_likelihood(x, mu)).mean())


def estimate_count(vae_pictures: int, samples: int, limit: int | None = None) -> int:
    """How many of ``vae_pictures`` fitting pictures the report's ``samples``-sample estimates cover.

    ``limit`` None: the default subset. An estimate with K samples costs about
    K codings of the picture (K decoder passes; at K = 16 on Fashion-MNIST, one
    torch thread, about 19 times its coding on 2 cores), so one picture in
    ``ESTIMATE_EVERY * K`` keeps the estimates under 10 % of the coding
    time, with room for a busy machine; at least ``ESTIMATE_MIN`` (a
    small archive still gets a figure), at most ``ESTIMATE_IMAGES``. A number
    caps the count instead (``vae_pictures`` or more: every one).
    """
    if samples <= 0 or vae_pictures <= 0:
        return 0
    if limit is not None:
        return max(0, min(limit, vae_pictures))
    share = vae_pictures // (ESTIMATE_EVERY * samples)
    return min(vae_pictures, ESTIMATE_IMAGES, max(ESTIMATE_MIN, share))


def estimate_subset(indices: list[int], count: int, seed: int) -> list[int]:
    """``count`` of ``indices`` drawn without replacement by ``numpy.random.default_rng(seed)``, in order."""
    if count >= len(indices):
        return list(indices)
    drawn = np.random.default_rng(seed).choice(len(indices), size=count, replace=False)
    return [indices[k] for k in sorted(drawn.tolist())]


def plan(pictures: list[Picture], model: str | None = None, estimate_samples: int = 0, seed: int = 0,
         estimate_images: int | None = None):
    """``(model_name, coders, estimates, tiles)``: the archive's model, each picture's coder,
    per-picture ``(neg_elbo_bits, is_bits)`` for the estimated fitting ones (when ``estimate_samples``;
    which ones: ``estimate_count`` and ``estimate_subset`` with ``estimate_images`` and ``seed``),
    and the tile coders of each per-tile picture (rule 4), by picture index."""
    name = choose_model(pictures, model)
    estimates: dict[int, tuple[float, float]] = {}
    tiles: dict[int, bytes] = {}
    if name == vz.MODEL_FREE:
        return name, [vz.CODER_MODEL_FREE] * len(pictures), estimates, tiles
    from vaezip.models import zoo

    info = zoo.get_info(name)
    key = _model_key(info)
    coders = [vz.CODER_VAE if (p.pixels.shape[0], p.pixels.shape[1], p.mode) == key else vz.CODER_MODEL_FREE
              for p in pictures]
    fitting = [i for i, coder in enumerate(coders) if coder == vz.CODER_VAE]
    chosen = estimate_subset(fitting, estimate_count(len(fitting), estimate_samples, estimate_images), seed)
    if chosen:
        from vaezip.models.density import estimate, zoo_density_model
        from vaezip.pipeline.threads import torch_threads

        images = np.stack([pictures[i].pixels[:, :, 0] for i in chosen]).astype(np.int64)
        # the float32 network (no engine start-up, twice as fast, within 0.14 % of the integer one's -ELBO)
        # on one torch thread (twice as fast as two on a busy 2-core machine)
        with torch_threads(1):
            result = estimate(zoo_density_model(name, integer=False), images, n_samples=estimate_samples, seed=seed)
        for j, i in enumerate(chosen):
            estimates[i] = (float(result.neg_elbo_bits[j]), float(result.is_bits[j]))
            if len(chosen) == len(fitting) and (
                    _model_free_bits(pictures[i].pixels[:, :, 0], pictures[i].bit_depth) < estimates[i][0]):
                coders[i] = vz.CODER_MODEL_FREE  # rule 3, only when every fitting picture is estimated
    for i, picture in enumerate(pictures):
        if (coders[i] != vz.CODER_VAE and _tileable(picture.pixels.shape[:2] + (picture.mode,), key)
                and _worth_probing(picture, key)):
            tile_coders = _tile_plan(name, key, picture)
            if tile_coders is not None:
                coders[i], tiles[i] = vz.CODER_PER_TILE, tile_coders
    return name, coders, estimates, tiles


def _tile_plan(name: str, key: tuple[int, int, str], picture: Picture) -> bytes | None:
    """Rule 4: the tile coders of ``picture``, or None to code it whole with the model-free coder."""
    from vaezip.images.tiling import is_full, split, tile_bounds

    bounds = tile_bounds(picture.height, picture.width, key[0], key[1])
    tiles = split(picture.pixels[:, :, 0], bounds)
    full = [k for k, b in enumerate(bounds) if is_full(b, key[0], key[1])]
    whole_bits = _model_free_bits(picture.pixels[:, :, 0], picture.bit_depth)
    step = max(1, len(full) // PROBE_TILES)
    probe = full[::step][:PROBE_TILES]
    probe_bits = np.minimum(*_tile_costs(name, picture, [tiles[k] for k in probe])).sum()
    if probe_bits >= PROBE_GAIN * whole_bits * len(probe) * key[0] * key[1] / picture.pixels.size:
        return None  # the tiles looked at code no better than their share of the whole picture
    vae_bits, free_bits = _tile_costs(name, picture, [tiles[k] for k in full])
    coders = bytearray([vz.CODER_MODEL_FREE]) * len(bounds)
    total = 0.0
    for k, vae, free in zip(full, vae_bits, free_bits):
        if vae < free:
            coders[k] = vz.CODER_VAE
        total += min(vae, free)
    for k in set(range(len(bounds))) - set(full):
        total += _model_free_bits(tiles[k], picture.bit_depth)
    return bytes(coders) if vz.CODER_VAE in coders and total < whole_bits else None


def _tile_costs(name: str, picture: Picture, tiles: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per tile: the model's one-sample −ELBO and the model-free coder's bits on the tile alone."""
    import torch

    from vaezip.models import zoo
    from vaezip.models.density import estimate

    model = zoo.load_model(name, dtype=torch.float32)
    vae = estimate(model, np.stack(tiles).astype(np.int64), n_samples=1, seed=0).neg_elbo_bits
    free = np.empty(len(tiles))
    for k, tile in enumerate(tiles):
        free[k] = _model_free_bits(np.ascontiguousarray(tile), picture.bit_depth)
    return vae, free


def _model_free_bits(plane: np.ndarray, bit_depth: int) -> int:
    """What the model-free coder spends on ``plane`` alone (its coded bits, the final state aside)."""
    from vaezip.codecs.planar import Planar
    from vaezip.rans import Message

    scratch = Message()
    Planar(bit_depth).push(scratch, plane)
    return scratch.num_bits() - 64
