"""compress, decompress, inspect: what the CLI and users call.

``compress(pictures)`` codes a list of ``vaezip.images.Picture`` into the
bytes of one .vz file (docs/format.md) and returns them with a ``Report``;
``decompress(data)`` gives the pictures back and checks every checksum.

Which coder codes a picture (the rule ``choose_model`` and ``plan`` apply):

1. A zoo model *fits* a picture when the picture has the model's height and
   width and its pixel kind: mode ``1`` for a binary model (Bernoulli
   likelihood), mode ``L`` for an 8-bit model.
2. Without ``model=``, the archive's model is the zoo model that fits the
   most pictures; when several fit equally many (``mnist`` and ``fashion``
   both fit 28x28 grey images), the one with the lower −ELBO on them
   (posterior-mean pass over at most 64 of them).
3. A fitting picture is coded by the VAE with bits-back, unless the
   model-free coder (``vaezip.codecs.planar``) codes it in fewer bits than
   the VAE's −ELBO estimate (only checked when estimates are computed).
4. A picture of the model's pixel kind that is larger than the model's
   input (at least one full tile) is cut into tiles by ``vaezip.images.tiling``;
   each full tile whose one-sample −ELBO is below what the model-free coder
   spends on that tile alone is coded by the VAE, every other tile by the
   model-free coder, all in the picture's one stream (coder ``per-tile``) —
   when the estimated total is below the model-free coder's on the whole
   picture. A first look at up to 16 tiles spread over the picture skips
   pictures (photographs, say) where those tiles, each coded the cheaper
   way, would not take 10 % fewer bits than their share of the whole
   picture coded model-free. Without an
   exact fit, the archive's model is the one that can tile the most
   pictures (ties as in rule 2, on their tiles).
5. Every other picture, plane by plane, goes to the model-free coder; a
   picture any coder would make larger than its PNG is stored as that PNG,
   so no file is much larger than its PNG.

Pictures are coded in input order. Consecutive pictures with the same coder
form runs; a VAE run is cut into at most ``MAX_STREAMS`` independent
streams (one message each), which are coded and decoded on a thread pool:
``default_streams`` of them unless the caller says. Networks run with one
torch thread (``vaezip.models.adapter``), so results do not depend on the
machine's thread count.
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np

from vaezip import format as vz
from vaezip.images import Picture
from vaezip.rans.message import FormatError

LIKELIHOOD_PRECISION = 20
POSTERIOR_PRECISION = 20
LATENT_BITS = 12
DEFAULT_BATCH = 64
MAX_STREAMS = 8
# importance-sampled bits-back variants (--estimator), by name
ESTIMATORS = {"bb-cis": vz.BB_CIS, "bb-is": vz.BB_IS}
# a stream's first image gets no bits back: about 400 (BB-ANS) to 700 (BB-CIS) clean bits
# on the digit models, so a stream should hold at least 1,000 times that
MIN_STREAM_BITS = 600_000


class CodingError(ValueError):
    """A request vaezip cannot carry out (unknown model, data that does not decode, ...)."""


# -- reports --------------------------------------------------------------------------
@dataclass
class PictureReport:
    """Figures of one picture; ``bits`` is its share of the file (see ``Report``)."""

    name: str
    dims: int
    coder: str
    bits: float
    neg_elbo_bits: float | None = None
    is_bits: float | None = None


@dataclass
class Report:
    """What ``compress`` did. Rates are bits per dimension (pixel x channel).

    ``file_bits`` counts every byte of the .vz file. A picture's ``bits`` is
    its stream's growth while it was coded (a batch shares its growth by
    pixel count) plus an equal share of the header and stream overheads, so
    the pictures' bits add up to ``file_bits``.
    """

    model: str
    file_bytes: int
    dims: int
    pictures: list[PictureReport] = field(default_factory=list)
    estimate_samples: int = 0
    seconds: float = 0.0
    streams: int = 0
    filler_words: int = 0  # words bits-back borrowed before any were on its stream (32 bits each)

    @property
    def bpd(self) -> float:
        return 8.0 * self.file_bytes / self.dims

    def _estimate_bpd(self, key: str) -> float | None:
        coded = [p for p in self.pictures if p.coder == "vae"]
        if not coded or any(getattr(p, key) is None for p in coded):
            return None
        return sum(getattr(p, key) for p in coded) / sum(p.dims for p in coded)

    @property
    def neg_elbo_bpd(self) -> float | None:
        """Mean −ELBO of the VAE-coded pictures (None without estimates)."""
        return self._estimate_bpd("neg_elbo_bits")

    @property
    def is_bpd(self) -> float | None:
        return self._estimate_bpd("is_bits")

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "file_bytes": self.file_bytes,
            "dims": self.dims,
            "bpd": self.bpd,
            "neg_elbo_bpd": self.neg_elbo_bpd,
            "is_bpd": self.is_bpd,
            "estimate_samples": self.estimate_samples,
            "seconds": self.seconds,
            "streams": self.streams,
            "filler_words": self.filler_words,
            "pictures": [p.__dict__ for p in self.pictures],
        }


# -- model choice -----------------------------------------------------------------------
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
        counts = {info.name: sum(n for key, n in shapes.items() if _tileable(key, _model_key(info)))
                  for info in infos}
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


# -- compress ---------------------------------------------------------------------------
@dataclass
class _Run:
    """Consecutive pictures (``start:stop``) with one coder."""

    start: int
    stop: int
    coder: int


def _runs(coders: list[int], vae_streams: int) -> list[_Run]:
    """Streams: VAE runs cut into chunks of about ``len / vae_streams`` pictures; one
    stream per other picture (its coder, planar or stored PNG, is decided after coding)."""
    runs, start = [], 0
    for i in range(1, len(coders) + 1):
        if i == len(coders) or coders[i] != coders[start]:
            if coders[start] == vz.CODER_VAE:
                chunks = min(vae_streams, i - start)
                bounds = np.linspace(start, i, chunks + 1).round().astype(int)
                runs += [_Run(int(a), int(b), coders[start]) for a, b in zip(bounds[:-1], bounds[1:])]
            else:
                runs += [_Run(j, j + 1, coders[start]) for j in range(start, i)]
            start = i
    return runs


def _entries(pictures: list[Picture], coders: list[int], tiles: dict[int, bytes] | None = None) -> list[vz.ImageEntry]:
    """Image-table entries: consecutive pictures of one shape, mode, palette and coder
    (a per-tile picture is an entry of its own, with its tile coders)."""
    groups: list[tuple[tuple, list[str]]] = []
    for i, (picture, coder) in enumerate(zip(pictures, coders)):
        palette = picture.palette
        key = (*picture.pixels.shape[:2], picture.mode, coder,
               b"" if palette is None else palette.tobytes(), 0 if palette is None else palette.shape[1],
               picture.png_bit_depth or 0, picture.transparency or (),
               (i, tiles[i]) if coder == vz.CODER_PER_TILE else None)
        if groups and groups[-1][0] == key:
            groups[-1][1].append(picture.name or "")
        else:
            groups.append((key, [picture.name or ""]))
    named = any(name for _, names in groups for name in names)
    return [
        vz.ImageEntry(height, width, mode, len(names), coder, palette=palette, palette_channels=channels,
                      names=tuple(names) if named else (), png_bit_depth=bit_depth, transparency=key,
                      tile_coders=per_tile[1] if per_tile else b"")
        for (height, width, mode, coder, palette, channels, bit_depth, key, per_tile), names in groups
    ]


def _entry_pictures(entries, pictures):
    start = 0
    for entry in entries:
        yield entry, pictures[start:start + entry.count]
        start += entry.count


class _Coders:
    """The model side of one archive: bits-back pieces, built once and shared by the streams."""

    def __init__(self, model_name: str, batch_size: int, particles: int = 1, coupled: bool = True,
                 version: int = vz.FORMAT_VERSION, info=None):
        from vaezip.codecs import GaussianLatent

        self.batch_size = batch_size
        self.particles = particles
        self.coupled = coupled
        self.model_name = model_name
        self.latent = GaussianLatent(LATENT_BITS, POSTERIOR_PRECISION)
        self.model = None
        self.sha256 = bytes(32)
        if model_name != vz.MODEL_FREE:
            from vaezip.models import zoo
            from vaezip.models.adapter import TorchLatentModel

            # info: the weights a file names (current or retired); None: the current ones
            self.info = info or zoo.get_info(model_name)
            # format version 1 ran the networks in torch's default (contiguous) memory format,
            # version 2 runs them channels-last: other float32 kernels, so other grid values
            self.model = TorchLatentModel(zoo.load_model(model_name, info=self.info), LIKELIHOOD_PRECISION,
                                          channels_last=version >= 2)
            self.sha256 = bytes.fromhex(self.info.sha256)

    # model-free pictures: planes through the adaptive coder, or the PNG bytes as they are
    @staticmethod
    def push_planar(msg, picture: Picture) -> None:
        from vaezip.codecs.planar import Planar

        planes = picture.planes()
        for c in range(planes.shape[0] - 1, -1, -1):
            Planar(picture.bit_depth).push(msg, planes[c])

    @staticmethod
    def pop_planar(msg, height: int, width: int, channels: int, bit_depth: int) -> np.ndarray:
        from vaezip.codecs.planar import Planar

        planes = [Planar(bit_depth).pop(msg, shape=(height, width)) for _ in range(channels)]
        return np.stack(planes, axis=-1)

    @staticmethod
    def push_stored(msg, blob: bytes) -> None:
        """A PNG file's bytes: its length as two 16-bit symbols, then the bytes, 8 bits each."""
        from vaezip.codecs import Uniform

        Uniform(256).push(msg, np.frombuffer(blob, dtype=np.uint8))
        Uniform(1 << 16).push(msg, np.array([len(blob) >> 16, len(blob) & 0xFFFF]))

    @staticmethod
    def pop_stored(msg) -> bytes:
        from vaezip.codecs import Uniform

        high, low = Uniform(1 << 16).pop(msg, (2,))
        size = (int(high) << 16) | int(low)
        if size > 4 * msg.length + 8:
            raise CodingError("a stored PNG declares more bytes than its stream holds: corrupt file")
        return Uniform(256).pop(msg, (size,)).astype(np.uint8).tobytes()

    # per-tile pictures: the model-free tiles first (popped last), then the VAE tiles with bits-back
    def push_tiles(self, msg, picture: Picture, tile_coders: bytes) -> None:
        from vaezip.codecs.planar import Planar
        from vaezip.images.tiling import split

        tiles = split(picture.pixels[:, :, 0], self.tile_bounds(picture.height, picture.width, tile_coders))
        for k in range(len(tiles) - 1, -1, -1):
            if tile_coders[k] == vz.CODER_MODEL_FREE:
                Planar(picture.bit_depth).push(msg, np.ascontiguousarray(tiles[k]))
        vae = [tiles[k] for k in range(len(tiles)) if tile_coders[k] == vz.CODER_VAE]
        self.push_vae(msg, np.stack(vae).astype(np.int64), [0.0] * len(vae))

    def pop_tiles(self, msg, height: int, width: int, bit_depth: int, tile_coders: bytes) -> np.ndarray:
        from vaezip.codecs.planar import Planar
        from vaezip.images.tiling import assemble

        bounds = self.tile_bounds(height, width, tile_coders)
        vae = iter(self.pop_vae(msg, tile_coders.count(vz.CODER_VAE)))
        free = [None if c == vz.CODER_VAE else Planar(bit_depth).pop(msg, shape=(b - t, r - l))
                for c, (t, b, l, r) in zip(tile_coders, bounds)]
        tiles = [next(vae) if c == vz.CODER_VAE else tile for c, tile in zip(tile_coders, free)]
        return assemble(tiles, bounds, height, width)[:, :, None]

    def tile_bounds(self, height: int, width: int, tile_coders: bytes) -> list[tuple[int, int, int, int]]:
        """The tiling rule's tiles, after checking ``tile_coders`` fits them (a corrupt file otherwise)."""
        from vaezip.images.tiling import is_full, tile_bounds

        tile_height, tile_width = self.model.shape
        bounds = tile_bounds(height, width, tile_height, tile_width)
        if len(bounds) != len(tile_coders) or vz.CODER_VAE not in tile_coders or any(
            c == vz.CODER_VAE and not is_full(b, tile_height, tile_width) for c, b in zip(tile_coders, bounds)
        ):
            raise CodingError("the tile coders of an image do not fit its tiles: corrupt file")
        return bounds

    # VAE pictures, with bits-back
    def push_vae(self, msg, images: np.ndarray, sizes: list[float]) -> None:
        from vaezip.codecs.bitsback import push_stream

        shares = np.zeros(len(images))
        push_stream(msg, images, self.model, self.latent, self.batch_size, self.particles,
                    coupled=self.coupled, sizes=shares)
        sizes[:] = shares.tolist()

    def pop_vae(self, msg, count: int) -> np.ndarray:
        """``count`` images (count, H, W), uint8 (the zoo's models have 1- or 8-bit pixels)."""
        from vaezip.codecs.bitsback import pop_stream

        return pop_stream(msg, count, self.model, self.latent, self.batch_size, self.particles,
                          coupled=self.coupled, dtype=np.uint8)


def _torch_threads(n: int):
    """Context: torch intra-op threads set to ``n`` (restored after), if torch is loaded."""
    import contextlib
    import sys

    @contextlib.contextmanager
    def manager():
        torch = sys.modules.get("torch")
        if torch is None:
            yield
            return
        previous = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(previous)

    return manager()


def _one_torch_thread() -> None:
    """Pin torch to one intra-op thread *in the calling thread*.

    OpenMP keeps its thread count per thread: a pool thread does not
    inherit what the main thread set, and some float32 kernels give
    different last bits with 2 threads than with 1. Every worker calls this
    first, so coding never depends on the machine's core count.
    """
    import sys

    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def _workers(jobs: int) -> int:
    return max(1, min(jobs, os.cpu_count() or 1))


def plan(pictures: list[Picture], model: str | None = None, estimate_samples: int = 0, seed: int = 0):
    """``(model_name, coders, estimates, tiles)``: the archive's model, each picture's coder,
    per-picture ``(neg_elbo_bits, is_bits)`` for the VAE-fitting ones (when ``estimate_samples``),
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
    if fitting and estimate_samples > 0:
        from vaezip.codecs.planar import Planar
        from vaezip.models.density import estimate
        from vaezip.rans import Message

        images = np.stack([pictures[i].pixels[:, :, 0] for i in fitting]).astype(np.int64)
        result = estimate(zoo.load_model(name), images, n_samples=estimate_samples, seed=seed)
        for j, i in enumerate(fitting):
            estimates[i] = (float(result.neg_elbo_bits[j]), float(result.is_bits[j]))
            scratch = Message()
            Planar(pictures[i].bit_depth).push(scratch, pictures[i].pixels[:, :, 0])
            if scratch.num_bits() - 64 < estimates[i][0]:
                coders[i] = vz.CODER_MODEL_FREE
    for i, picture in enumerate(pictures):
        if coders[i] != vz.CODER_VAE and _tileable(picture.pixels.shape[:2] + (picture.mode,), key):
            tile_coders = _tile_plan(name, key, picture)
            if tile_coders is not None:
                coders[i], tiles[i] = vz.CODER_PER_TILE, tile_coders
    return name, coders, estimates, tiles


PROBE_TILES = 16  # tiles looked at before a picture's every tile is estimated
PROBE_GAIN = 0.9  # ... which must promise at least 10 % fewer bits than the whole picture model-free


def _tile_plan(name: str, key: tuple[int, int, str], picture: Picture) -> bytes | None:
    """Rule 4: the tile coders of ``picture``, or None to code it whole with the model-free coder."""
    from vaezip.codecs.planar import Planar
    from vaezip.rans import Message
    from vaezip.images.tiling import is_full, split, tile_bounds

    bounds = tile_bounds(picture.height, picture.width, key[0], key[1])
    tiles = split(picture.pixels[:, :, 0], bounds)
    full = [k for k, b in enumerate(bounds) if is_full(b, key[0], key[1])]
    whole = Message()
    Planar(picture.bit_depth).push(whole, picture.pixels[:, :, 0])
    whole_bits = whole.num_bits() - 64
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
        scratch = Message()
        Planar(picture.bit_depth).push(scratch, tiles[k])
        total += scratch.num_bits() - 64
    return bytes(coders) if vz.CODER_VAE in coders and total < whole_bits else None


def _tile_costs(name: str, picture: Picture, tiles: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per tile: the model's one-sample −ELBO and the model-free coder's bits on the tile alone."""
    import torch

    from vaezip.models import zoo
    from vaezip.codecs.planar import Planar
    from vaezip.models.density import estimate
    from vaezip.rans import Message

    model = zoo.load_model(name, dtype=torch.float32)
    vae = estimate(model, np.stack(tiles).astype(np.int64), n_samples=1, seed=0).neg_elbo_bits
    free = np.empty(len(tiles))
    for k, tile in enumerate(tiles):
        scratch = Message()
        Planar(picture.bit_depth).push(scratch, np.ascontiguousarray(tile))
        free[k] = scratch.num_bits() - 64
    return vae, free


def compress(
    pictures: list[Picture],
    model: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    estimate_samples: int = 0,
    streams: int | None = None,
    seed: int = 0,
    sources: list[bytes | None] | None = None,
    particles: int = 1,
    estimator: str = "bb-cis",
) -> tuple[bytes, Report]:
    """Code ``pictures`` into the bytes of one .vz file; see the module docstring.

    ``sources`` (optional, one per picture) are the PNG files the pictures
    were read from: a picture the model-free coder would code larger than
    its PNG is stored as that PNG (or, without a source, as the PNG
    ``vaezip.images.write_png`` makes), so no picture costs more than its
    PNG plus a few bytes of bookkeeping.

    ``particles`` K > 1 codes VAE images with importance-sampled bits-back:
    ``estimator`` "bb-cis" (coupled particles from one shared draw, the
    default) or "bb-is" (K independent posterior draws, which needs K times
    the clean bits); K = 1 is plain bits-back whatever ``estimator`` says.
    """
    if not pictures:
        raise CodingError("nothing to compress: no images given")
    if not 1 <= batch_size <= vz.MAX_BATCH:
        raise CodingError(f"batch size must be in 1..{vz.MAX_BATCH}")
    if not 1 <= particles <= vz.MAX_PARTICLES:
        raise CodingError(f"particles must be in 1..{vz.MAX_PARTICLES}")
    if streams is not None and not 1 <= streams <= MAX_STREAMS:
        raise CodingError(f"streams must be in 1..{MAX_STREAMS}")
    if estimator not in ESTIMATORS:
        raise CodingError(f"estimator must be one of {', '.join(ESTIMATORS)}, got {estimator!r}")
    code_id = vz.BB_ANS if particles == 1 else ESTIMATORS[estimator]
    started = time.perf_counter()
    name, coders, estimates, tiles = plan(pictures, model, estimate_samples, seed)
    vae_count = coders.count(vz.CODER_VAE) + len(tiles)
    coding = _Coders(name if vae_count else vz.MODEL_FREE, batch_size, particles, code_id == vz.BB_CIS)
    if streams is None:
        streams = default_streams(coding.info, vae_count) if vae_count else 1
    runs = _runs(coders, streams)
    sizes = [0.0] * len(pictures)

    def code(run: _Run):
        from vaezip.rans import Message

        _one_torch_thread()
        msg = Message()
        if run.coder == vz.CODER_VAE:
            part = pictures[run.start:run.stop]
            run_sizes = [0.0] * len(part)
            images = np.stack([p.pixels[:, :, 0] for p in part]).astype(np.int64)
            coding.push_vae(msg, images, run_sizes)
            sizes[run.start:run.stop] = run_sizes
            return vz.Stream(msg.to_words(), msg.fillers, len(part)), run.coder
        picture = pictures[run.start]
        if run.coder == vz.CODER_PER_TILE:
            coding.push_tiles(msg, picture, tiles[run.start])
        else:
            coding.push_planar(msg, picture)
        coder = run.coder
        blob = _png_bytes(picture, sources[run.start] if sources else None)
        if 8 * len(blob) + 32 < msg.num_bits():  # the PNG as it is codes smaller
            msg = Message()
            coding.push_stored(msg, blob)
            coder = vz.CODER_STORED
        sizes[run.start] = msg.num_bits()
        return vz.Stream(msg.to_words(), msg.fillers, 1), coder

    with _torch_threads(1), ThreadPoolExecutor(_workers(len(runs))) as pool:
        results = list(pool.map(code, runs))
    coded = [stream for stream, _ in results]
    for run, (_, coder) in zip(runs, results):
        coders[run.start:run.stop] = [coder] * (run.stop - run.start)
    entries = _entries(pictures, coders, tiles)
    header = vz.Header(
        model=coding.model_name,
        model_sha256=vz.weights_id(coding.sha256),
        likelihood_precision=LIKELIHOOD_PRECISION,
        posterior_precision=POSTERIOR_PRECISION,
        latent_bits=LATENT_BITS,
        batch_size=batch_size,
        estimator=code_id,
        particles=particles,
    )
    checksums = [vz.pixel_checksum([p.pixels for p in group]) for _, group in _entry_pictures(entries, pictures)]
    data = vz.write(vz.Archive(header, entries, coded, checksums))
    report = _report(pictures, coders, sizes, estimates, data, coding.model_name, estimate_samples)
    report.seconds = time.perf_counter() - started
    report.streams = len(coded)
    report.filler_words = sum(stream.fillers for stream in coded)
    return data, report


def _png_bytes(picture: Picture, source: bytes | None) -> bytes:
    if source is not None:
        return source
    import io

    from vaezip.images import write_png

    buffer = io.BytesIO()
    write_png(picture, buffer)
    return buffer.getvalue()


def _report(pictures, coders, sizes, estimates, data, model_name, samples) -> Report:
    dims = sum(p.pixels.size for p in pictures)
    overhead = (8 * len(data) - sum(sizes)) / len(pictures)
    report = Report(model_name, len(data), dims, estimate_samples=samples)
    for i, (picture, coder) in enumerate(zip(pictures, coders)):
        elbo, is_ = estimates.get(i, (None, None))
        report.pictures.append(PictureReport(
            picture.name or f"#{i}", int(picture.pixels.size), vz.CODERS[coder], sizes[i] + overhead, elbo, is_,
        ))
    return report


# -- decompress ------------------------------------------------------------------------
def _entry_for_each_picture(entries):
    for entry in entries:
        for k in range(entry.count):
            yield entry, (entry.names[k] if entry.names else "")


def decompress(data: bytes) -> list[Picture]:
    """The pictures of a .vz file, each checked against its stored checksum."""
    from vaezip.rans import Message

    archive = vz.read(data)
    header = archive.header
    per_picture = list(_entry_for_each_picture(archive.images))
    if any(e.coder == vz.CODER_PER_TILE and e.count != 1 for e, _ in per_picture):
        raise CodingError("a per-tile image entry holds several images, which this vaezip version never writes")
    uses_vae = any(e.coder == vz.CODER_VAE or vz.CODER_VAE in e.tile_coders for e, _ in per_picture)
    coding = _decoding_side(header, uses_vae)
    bounds, start = [], 0
    for stream in archive.streams:
        bounds.append((start, start + stream.image_count))
        start += stream.image_count

    def decode(index: int) -> list[np.ndarray]:
        _one_torch_thread()
        stream = archive.streams[index]
        lo, hi = bounds[index]
        kinds = {per_picture[i][0].coder for i in range(lo, hi)}
        if len(kinds) != 1:
            raise CodingError("a stream mixes coders, which this vaezip version never writes: corrupt file")
        msg = Message.from_words(stream.words)
        if kinds == {vz.CODER_VAE}:
            key = coding.model.shape + ("1" if coding.model.n_values == 2 else "L",)
            if any((e.height, e.width, e.mode) != key for e, _ in per_picture[lo:hi]):
                raise CodingError("a VAE-coded image does not have the model's shape and mode: corrupt file")
            try:
                out = list(coding.pop_vae(msg, hi - lo)[:, :, :, None])
            except FormatError as error:
                raise CodingError(f"{error}. {NOT_HERE}") from None
        elif kinds == {vz.CODER_MODEL_FREE} and hi - lo == 1:
            entry = per_picture[lo][0]
            out = [coding.pop_planar(msg, entry.height, entry.width, entry.channels, entry.bit_depth)]
        elif kinds == {vz.CODER_PER_TILE} and hi - lo == 1:
            entry = per_picture[lo][0]
            if entry.mode not in ("1", "L") or (entry.bit_depth == 1) != (coding.model.n_values == 2):
                raise CodingError("a per-tile image is not of the model's pixel kind: corrupt file")
            out = [coding.pop_tiles(msg, entry.height, entry.width, entry.bit_depth, entry.tile_coders)]
        elif kinds == {vz.CODER_STORED} and hi - lo == 1:
            out = [_stored_pixels(coding.pop_stored(msg), per_picture[lo][0])]
        else:
            raise CodingError("a stream layout this vaezip version never writes: corrupt file")
        msg.finish(stream.fillers)
        return out

    with _torch_threads(1), ThreadPoolExecutor(_workers(len(archive.streams))) as pool:
        decoded = [pixels for part in pool.map(decode, range(len(archive.streams))) for pixels in part]
    pictures = [_picture(entry, name, pixels) for (entry, name), pixels in zip(per_picture, decoded)]
    start = 0
    for index, (entry, checksum) in enumerate(zip(archive.images, archive.checksums)):
        group = pictures[start:start + entry.count]
        start += entry.count
        if vz.pixel_checksum([p.pixels for p in group]) != checksum:
            raise CodingError(
                f"decoded pixels of image entry {index} do not match their checksum. {NOT_HERE}"
            )
    return pictures


def _stored_pixels(blob: bytes, entry: vz.ImageEntry) -> np.ndarray:
    from vaezip.images import ImageError, read_png

    try:
        picture = read_png(blob)
    except ImageError:
        raise CodingError("a stored PNG in the file does not decode: corrupt file") from None
    if (picture.height, picture.width, picture.mode) != (entry.height, entry.width, entry.mode):
        raise CodingError("a stored PNG does not match its image entry: corrupt file")
    return picture.pixels


NOT_HERE = (
    "The file is intact (its CRCs match), so it was most likely compressed on a machine whose float32 "
    "network kernels give other results than this one's (another CPU family or torch build): "
    "decode it on a machine like the one that made it (README, 'Portability')"
)


def _decoding_side(header: vz.Header, uses_vae: bool) -> _Coders:
    if not uses_vae:
        return _Coders(vz.MODEL_FREE, header.batch_size)
    from vaezip.models import zoo

    try:
        info = zoo.find_weights(
            header.model, lambda sha256: vz.weights_id(bytes.fromhex(sha256), header.version) == header.model_sha256)
    except zoo.ModelError:
        try:
            current = zoo.get_info(header.model)
        except zoo.ModelError:
            raise CodingError(
                f"this file was compressed with model '{header.model}', which is not in this vaezip's model zoo"
            ) from None
        raise CodingError(
            f"this file was compressed with other weights of model '{header.model}' "
            f"(sha256 {header.model_sha256.hex()[:12]}..., the zoo has {current.sha256[:12]}...)"
        ) from None
    if (header.latent_bits, header.posterior_precision, header.likelihood_precision) != (
        LATENT_BITS, POSTERIOR_PRECISION, LIKELIHOOD_PRECISION
    ):
        raise CodingError("this file uses codec settings this vaezip version does not decode")
    return _Coders(header.model, header.batch_size, header.particles, header.estimator == vz.BB_CIS,
                   header.version, info)


def _picture(entry: vz.ImageEntry, name: str, pixels: np.ndarray) -> Picture:
    if entry.coder == vz.CODER_VAE:  # uint8 values the model's likelihood allows; the header validated
        return Picture.trusted(pixels, entry.mode, name or None, entry.png_bit_depth or None,
                               tuple(entry.transparency) or None)
    palette = None
    if entry.mode == "P":
        palette = np.frombuffer(entry.palette, dtype=np.uint8).reshape(-1, entry.palette_channels).copy()
    dtype = np.uint16 if entry.bit_depth == 16 else np.uint8
    return Picture(pixels.astype(dtype, copy=False), entry.mode, palette, name or None,
                   entry.png_bit_depth or None, tuple(entry.transparency) or None)
