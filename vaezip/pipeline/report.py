"""What ``compress`` reports: bits per picture and per file, beside the model's estimates."""

from __future__ import annotations

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


def build_report(pictures, coders, sizes, estimates, data, model_name, samples, streams, started) -> Report:
    """The report of a finished ``compress``: ``sizes`` are the pictures' stream bits, ``streams`` the
    coded streams, ``started`` the ``time.perf_counter()`` it started at."""
    dims = sum(p.pixels.size for p in pictures)
    overhead = (8 * len(data) - sum(sizes)) / len(pictures)
    report = Report(model_name, len(data), dims, estimate_samples=samples)
    for i, (picture, coder) in enumerate(zip(pictures, coders)):
        elbo, is_ = estimates.get(i, (None, None))
        report.pictures.append(PictureReport(
            picture.name or f"#{i}", int(picture.pixels.size), vz.CODERS[coder], sizes[i] + overhead, elbo, is_,
        ))
    report.seconds = time.perf_counter() - started
    report.streams = len(streams)
    report.filler_words = sum(stream.fillers for stream in streams)
    return report
