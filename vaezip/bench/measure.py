"""vaezip itself on the images: the timed archive, its check, the model's estimates, the record's block.

Coding is timed alone (estimates off); before the timed runs the 1-image
archive of the first image is coded, which also warms up Numba and torch.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np

from vaezip.bench.errors import RoundTripError
from vaezip.bench.progress import Progress, step


def _check_exact(originals: list, decoded: list, what: str) -> None:
    if len(decoded) != len(originals):
        raise RoundTripError(f"{what}: {len(originals)} images in, {len(decoded)} out of decompress")
    for index, (a, b) in enumerate(zip(originals, decoded)):
        if a.mode != b.mode or a.pixels.shape != b.pixels.shape:
            raise RoundTripError(f"{what}: image {index} came back as {b.mode} {b.pixels.shape}, "
                                 f"not {a.mode} {a.pixels.shape}")
        differ = int(np.count_nonzero(a.pixels != b.pixels))
        if differ:
            raise RoundTripError(f"{what}: image {index} did not come back exact ({differ} samples differ)")


def _peak_rss_mib() -> float | None:
    """Peak resident set size of this process so far, MiB (ru_maxrss: KiB on Linux, bytes on macOS).

    None where the ``resource`` module does not exist (Windows).
    """
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def _gap(achieved: float, reference: float | None) -> tuple[float | None, float | None]:
    if reference is None:
        return None, None
    return achieved - reference, 100.0 * (achieved - reference) / reference


@dataclass
class _Coded:
    """The timed runs: the 1-image archive, the archive of every image and its report, seconds, memory."""

    single: bytes
    report: object
    compress_s: float
    decompress_s: float
    peak_rss_mib: float | None


def _code(pictures: list, name: str, progress: Progress, particles: int, estimator: str,
          streams: int | None) -> _Coded:
    """The 1-image archive (first-image overhead, and a warm-up), then the timed compress and decompress,
    each checked exact."""
    from vaezip import api

    count = len(pictures)
    (single, _), _ = step(progress, "vaezip: 1-image archive",
                          lambda: api.compress(pictures[:1], model=name, estimate_samples=0))
    _check_exact(pictures[:1], api.decompress(single), "the 1-image archive")
    (data, report), compress_s = step(progress, f"vaezip: compress {count} images",
                                      lambda: api.compress(pictures, model=name, estimate_samples=0,
                                                           particles=particles, estimator=estimator,
                                                           streams=streams))
    decoded, decompress_s = step(progress, f"vaezip: decompress {count} images", lambda: api.decompress(data))
    _check_exact(pictures, decoded, "the archive")
    return _Coded(single, report, compress_s, decompress_s, _peak_rss_mib())


def measure_vaezip(pictures: list, name: str, samples: int, progress: Progress, particles: int = 1,
                   estimator: str = "bb-cis", streams: int | None = None) -> tuple[dict, dict]:
    """The vaezip block of the record, and per-image figures for the plot."""
    coded = _code(pictures, name, progress, particles, estimator, streams)
    neg_elbo = is_bits = None
    estimate_s = 0.0
    vae = [i for i, p in enumerate(coded.report.pictures) if p.coder == "vae"]
    if vae and samples > 0:
        (neg_elbo, is_bits), estimate_s = _estimate(pictures, vae, name, samples, progress)
    block = _block(pictures, coded, vae, samples, neg_elbo, is_bits, estimate_s)
    per_image = {
        "achieved_from": "the archive (images of one network batch share its bits)",
        "achieved_bits": [p.bits for p in coded.report.pictures],
        "is_bits": None if is_bits is None else [None] * len(pictures),
    }
    if is_bits is not None:
        for j, i in enumerate(vae):
            per_image["is_bits"][i] = float(is_bits[j])
    return block, per_image


def _block(pictures, coded: _Coded, vae, samples, neg_elbo, is_bits, estimate_s) -> dict:
    """The record's ``vaezip`` block (docs/bench.md)."""
    count, report = len(pictures), coded.report
    share = report.pictures[0].bits
    return {
        **_rates(pictures, report, vae, samples, neg_elbo, is_bits),
        "first_image": {
            "archive_bits": 8 * len(coded.single),
            "share_bits": share,
            "overhead_bits": 8 * len(coded.single) - share,
            "neg_elbo_bits": None if neg_elbo is None or vae[0] != 0 else float(neg_elbo[0]),
        },
        "compress": {"seconds": coded.compress_s, "images_per_s": count / coded.compress_s},
        "decompress": {"seconds": coded.decompress_s, "images_per_s": count / coded.decompress_s},
        "estimate": {"seconds": estimate_s},
        "peak_rss_mib": coded.peak_rss_mib,
        "exact": True,
    }


def _rates(pictures, report, vae, samples, neg_elbo, is_bits) -> dict:
    """The block's rates: the archive's, the model's estimates, the gaps between them."""
    vae_dims = sum(pictures[i].pixels.size for i in vae)
    neg_elbo_bpd = None if neg_elbo is None else float(neg_elbo.sum()) / vae_dims
    is_bpd = None if is_bits is None else float(is_bits.sum()) / vae_dims
    bpd = report.bpd
    gap_elbo, gap_elbo_pct = _gap(bpd, neg_elbo_bpd)
    gap_is, gap_is_pct = _gap(bpd, is_bpd)
    coders: dict[str, int] = {}
    for picture in report.pictures:
        coders[picture.coder] = coders.get(picture.coder, 0) + 1
    return {
        "file_bytes": report.file_bytes,
        "bpd": bpd,
        "bits_per_image": 8.0 * report.file_bytes / len(pictures),
        "coders": coders,
        "streams": report.streams,
        "filler_words": report.filler_words,
        "estimate_samples": samples if neg_elbo is not None else 0,
        "estimated_images": len(vae) if neg_elbo is not None else 0,
        "neg_elbo_bpd": neg_elbo_bpd,
        "is_bpd": is_bpd,
        "gap_neg_elbo_bpd": gap_elbo,
        "gap_neg_elbo_percent": gap_elbo_pct,
        "gap_is_bpd": gap_is,
        "gap_is_percent": gap_is_pct,
    }


def _estimate(pictures, indices, name, samples, progress):
    """−ELBO and IS bits of the pictures ``indices`` under the integer network that codes them
    (``zoo_density_model``), on one torch thread (faster than two on a shared machine)."""
    import torch

    from vaezip.models.density import estimate, zoo_density_model

    images = np.stack([pictures[i].pixels[:, :, 0] for i in indices]).astype(np.int64)
    bar = progress(f"estimate: -ELBO and IS (K={samples})", len(indices))
    threads = torch.get_num_threads()
    started = time.perf_counter()
    try:
        torch.set_num_threads(1)
        result = estimate(zoo_density_model(name), images, n_samples=samples, seed=0, progress=bar.update)
    finally:
        torch.set_num_threads(threads)
        bar.close()
    return (result.neg_elbo_bits, result.is_bits), time.perf_counter() - started


def own_bits(pictures: list, name: str, per_image: dict, progress: Progress) -> dict:
    """Per-image achieved bits from a compress with batch size 1 (each image its own batch)."""
    from vaezip import api

    (_, report), _ = step(progress, f"vaezip: {len(pictures)} images one by one, for the plot",
                           lambda: api.compress(pictures, model=name, batch_size=1, estimate_samples=0))
    estimated = per_image["is_bits"]
    return {
        "achieved_bits": [p.bits for p in report.pictures],
        "is_bits": None if estimated is None else estimated[:len(pictures)],
        "achieved_from": f"batch size 1, first {len(pictures)} images",
    }
