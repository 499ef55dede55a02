"""What ``compress`` reports: bits per picture and per file, beside the model's estimates."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from vaezip import format as vz


@dataclass
class PictureReport:
    """Figures of one picture; ``bits`` is its share of the file (see ``Report``)."""

    name: str
    dims: int
    coder: str
    bits: float
    neg_elbo_bits: float | None = None
    is_bits: float | None = None


ESTIMATE_METHOD = (
    "simple random sample without replacement of the VAE-coded images (numpy.random.default_rng(seed)), "
    "or every one; per image the K-sample -ELBO and importance-sampled -log q(x) (the same K posterior "
    "samples) of the model's float32 network (within 0.14 % of the integer network the file codes with); "
    "bpd: the sample's mean; se: its standard deviation / sqrt(images) * sqrt(1 - images/of) (the "
    "finite-population correction: 0 when every image is estimated)"
)


def mean_and_se(values: list[float], population: int) -> tuple[float | None, float | None]:
    """The mean of ``values`` (a sample of ``population``) and its standard error (None below 2 values)."""
    n = len(values)
    if n == 0:
        return None, None
    mean = sum(values) / n
    if n < 2:
        return mean, None
    variance = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(variance / n * max(0.0, 1.0 - n / max(population, n)))


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
    estimate_seed: int = 0
    seconds: float = 0.0
    streams: int = 0
    filler_words: int = 0  # words bits-back borrowed before any were on its stream (32 bits each)

    @property
    def bpd(self) -> float:
        return 8.0 * self.file_bytes / self.dims

    def _estimated(self, key: str) -> tuple[list[float], int]:
        """Per-picture bits/dim of ``key`` of the estimated VAE-coded pictures, and how many are VAE-coded."""
        coded = [p for p in self.pictures if p.coder == "vae"]
        return [getattr(p, key) / p.dims for p in coded if getattr(p, key) is not None], len(coded)

    @property
    def neg_elbo_bpd(self) -> float | None:
        """Mean −ELBO of the estimated VAE-coded pictures (None without estimates)."""
        return mean_and_se(*self._estimated("neg_elbo_bits"))[0]

    @property
    def neg_elbo_se(self) -> float | None:
        """Standard error of ``neg_elbo_bpd`` as the mean of all VAE-coded pictures (see ``ESTIMATE_METHOD``)."""
        return mean_and_se(*self._estimated("neg_elbo_bits"))[1]

    @property
    def is_bpd(self) -> float | None:
        return mean_and_se(*self._estimated("is_bits"))[0]

    @property
    def is_se(self) -> float | None:
        return mean_and_se(*self._estimated("is_bits"))[1]

    def estimates(self) -> dict:
        """What the estimates cover and how they were made (the JSON report's ``estimates``)."""
        values, coded = self._estimated("is_bits")
        return {"images": len(values), "of": coded, "seed": self.estimate_seed, "samples": self.estimate_samples,
                "method": ESTIMATE_METHOD, "neg_elbo_bpd": self.neg_elbo_bpd, "neg_elbo_se": self.neg_elbo_se,
                "is_bpd": self.is_bpd, "is_se": self.is_se}

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "file_bytes": self.file_bytes,
            "dims": self.dims,
            "bpd": self.bpd,
            "neg_elbo_bpd": self.neg_elbo_bpd,
            "is_bpd": self.is_bpd,
            "estimate_samples": self.estimate_samples,
            "estimates": self.estimates(),
            "seconds": self.seconds,
            "streams": self.streams,
            "filler_words": self.filler_words,
            "pictures": [p.__dict__ for p in self.pictures],
        }


def build_report(pictures, coders, sizes, estimates, data, model_name, samples, streams, started,
                 seed: int = 0) -> Report:
    """The report of a finished ``compress``: ``sizes`` are the pictures' stream bits, ``streams`` the
    coded streams, ``started`` the ``time.perf_counter()`` it started at, ``seed`` the estimates' seed."""
    dims = sum(p.pixels.size for p in pictures)
    overhead = (8 * len(data) - sum(sizes)) / len(pictures)
    report = Report(model_name, len(data), dims, estimate_samples=samples, estimate_seed=seed)
    for i, (picture, coder) in enumerate(zip(pictures, coders)):
        elbo, is_ = estimates.get(i, (None, None))
        report.pictures.append(PictureReport(
            picture.name or f"#{i}", int(picture.pixels.size), vz.CODERS[coder], sizes[i] + overhead, elbo, is_,
        ))
    report.seconds = time.perf_counter() - started
    report.streams = len(streams)
    report.filler_words = sum(stream.fillers for stream in streams)
    return report
