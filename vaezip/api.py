"""compress, decompress: what the CLI and users call.

``compress(pictures)`` codes a list of ``vaezip.images.Picture`` into the
bytes of one .vz file (docs/format.md) and returns them with a ``Report``;
``decompress(data)`` gives the pictures back and checks every checksum.

Which coder codes a picture, and with which zoo model, is decided by
``plan`` (the rules are in ``vaezip.pipeline.plan``): a zoo model codes the
pictures of its shape and pixel kind with bits-back, larger pictures of its
kind tile by tile, everything else goes to the model-free coder, and a
picture any coder would make larger than its PNG is stored as that PNG.

Pictures are coded in input order. Consecutive pictures with the same coder
form runs; a VAE run is cut into at most ``MAX_STREAMS`` independent
streams (one message each), which are coded and decoded on a thread pool:
``default_streams`` of them unless the caller says. Networks run with one
torch thread (``vaezip.models.adapter``), so results do not depend on the
machine's thread count. The pieces are in ``vaezip.pipeline``; this module
only puts them in order.
"""

from __future__ import annotations

import time
from typing import Callable

from vaezip import format as vz
from vaezip.images import Picture
from vaezip.pipeline.coders import Coders
from vaezip.pipeline.decoding import check_checksums, decode_stream, decoding_side, to_picture
from vaezip.pipeline.encoding import encode_run, write_archive
from vaezip.pipeline.layout import entry_for_each_picture, split_runs, stream_pictures
from vaezip.pipeline.plan import choose_model, default_streams, fits, plan
from vaezip.pipeline.report import PictureReport, Report, build_report
from vaezip.pipeline.settings import (
    DEFAULT_BATCH,
    ESTIMATORS,
    LATENT_BITS,
    LIKELIHOOD_PRECISION,
    MAX_STREAMS,
    MIN_STREAM_BITS,
    POSTERIOR_PRECISION,
    CodingError,
)
from vaezip.pipeline.threads import in_parallel

__all__ = [
    "compress", "decompress", "plan", "choose_model", "default_streams", "fits",
    "Report", "PictureReport", "CodingError",
    "DEFAULT_BATCH", "ESTIMATORS", "LATENT_BITS", "LIKELIHOOD_PRECISION", "MAX_STREAMS", "MIN_STREAM_BITS",
    "POSTERIOR_PRECISION",
]


def compress(pictures: list[Picture], model: str | None = None, batch_size: int = DEFAULT_BATCH,
             estimate_samples: int = 0, streams: int | None = None, seed: int = 0,
             sources: list[bytes | None] | None = None, particles: int = 1,
             estimator: str = "bb-cis", version: int = vz.FORMAT_VERSION, estimate_images: int | None = None,
             progress: Callable[[int], None] | None = None) -> tuple[bytes, Report]:
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

    ``version`` 3 (the default) codes with the models' integer networks: the
    file decodes on any machine. Versions 2 and 1 code with the float32
    networks as vaezip 0.2 and 0.1 did, and decode only where torch's
    kernels give this machine's results; they are kept for comparisons.

    ``estimate_samples`` K > 0 reports the K-sample −ELBO and IS estimate of a
    seeded random subset of the VAE pictures (``plan.estimate_count``; at most
    ``estimate_images``); ``progress(n)``, if given, hears of n more pictures coded.
    """
    _check_request(pictures, batch_size, particles, streams, estimator, version)
    code_id = vz.BB_ANS if particles == 1 else ESTIMATORS[estimator]
    started = time.perf_counter()
    name, coders, estimates, tiles = plan(pictures, model, estimate_samples, seed, estimate_images)
    vae_count = coders.count(vz.CODER_VAE) + len(tiles)
    coding = Coders(name if vae_count else vz.MODEL_FREE, batch_size, particles, code_id == vz.BB_CIS, version)
    coding.progress = progress
    coded, sizes = _encode_runs(coding, coders, pictures, tiles, sources, streams, vae_count)
    data = write_archive(pictures, coders, tiles, coded, coding, code_id)
    report = build_report(pictures, coders, sizes, estimates, data, coding.model_name, estimate_samples, coded, started,
                          seed)
    return data, report


def _encode_runs(coding: Coders, coders: list[int], pictures: list[Picture], tiles: dict[int, bytes],
                 sources, streams: int | None, vae_count: int) -> tuple[list[vz.Stream], list[float]]:
    """The coded streams and each picture's bits; ``coders`` end up as each picture was coded."""
    if streams is None:
        streams = default_streams(coding.info, vae_count) if vae_count else 1
    runs = split_runs(coders, streams)
    sizes = [0.0] * len(pictures)

    def code(run):
        result = encode_run(coding, run, pictures, tiles, sources, sizes)
        if coding.progress is not None and run.coder != vz.CODER_VAE:  # VAE runs report batch by batch
            coding.progress(run.stop - run.start)
        return result

    results = in_parallel(code, runs)
    for run, (_, coder) in zip(runs, results):
        coders[run.start:run.stop] = [coder] * (run.stop - run.start)
    return [stream for stream, _ in results], sizes


def _check_request(pictures: list[Picture], batch_size: int, particles: int, streams: int | None,
                   estimator: str, version: int) -> None:
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
    if version not in vz.WEIGHTS_ID_SIZE:
        raise CodingError(f"format version must be one of {sorted(vz.WEIGHTS_ID_SIZE)}, got {version}")


def decompress(data: bytes, progress: Callable[[int], None] | None = None) -> list[Picture]:
    """The pictures of a .vz file, each checked against its stored checksum; ``progress`` as in ``compress``."""
    archive = vz.read(data)
    per_picture = list(entry_for_each_picture(archive.images))
    if any(e.coder == vz.CODER_PER_TILE and e.count != 1 for e, _ in per_picture):
        raise CodingError("a per-tile image entry holds several images, which this vaezip version never writes")
    uses_vae = any(e.coder == vz.CODER_VAE or vz.CODER_VAE in e.tile_coders for e, _ in per_picture)
    coding = decoding_side(archive.header, uses_vae)
    coding.progress = progress
    bounds = stream_pictures(archive.streams)

    def decode(k):
        carried = per_picture[slice(*bounds[k])]
        pixels = decode_stream(coding, archive.streams[k], carried)
        if progress is not None and carried and carried[0][0].coder != vz.CODER_VAE:
            progress(len(carried))
        return pixels

    parts = in_parallel(decode, range(len(archive.streams)))
    decoded = [pixels for part in parts for pixels in part]
    pictures = [to_picture(entry, name, pixels) for (entry, name), pixels in zip(per_picture, decoded)]
    check_checksums(archive, pictures)
    return pictures
