"""The rate report of ``vaezip bench``: vaezip beside the codecs people use.

``run(spec)`` loads a data set (``vaezip.datasets.load``), compresses it
into one archive with ``vaezip.api.compress`` (the code the ``compress``
command runs), decompresses it with ``vaezip.api.decompress`` and checks
every image comes back exact, estimates the model's −ELBO and
importance-sampled −log q(x) (``vaezip.models.density.estimate``), and codes the
same images with PNG, WebP, JPEG XL, xz, brotli and zstd. It returns one
JSON-ready record; docs/bench.md documents every field.

Measurement choices (docs/bench.md says the same):

* **Coding is timed alone.** The archive is made with ``estimate_samples=0``
  so the timed compress is the coding, and every image a model fits is
  coded by the VAE; the estimates are timed apart (``estimate.seconds``).
  Before the timed runs the 1-image archive of the first image is
  compressed and decompressed, which also warms up Numba and torch.
* **First-image overhead** = bits of a 1-image archive of the first image
  − that image's share of the full archive (``PictureReport.bits``): what
  coding one image on its own costs beyond its part of a set (header,
  stream framing, the initial bits bits-back cannot give back).
* **Peak memory** is the process's peak resident set size
  (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) read after vaezip's
  compress and decompress, before any baseline runs; it includes the
  interpreter, torch and the data set.
* **Baselines** are measured in the same run on the same images, and each
  is decoded and checked: per image (one file per image, headers and all)
  and as one mosaic (the images tiled ``ceil(sqrt(N))`` to a row, empty
  tiles black) for the image codecs; over the raw array bytes (one byte per
  sample, 16-bit little-endian) for the general-purpose ones.
  ``ratio`` = baseline bits / vaezip bits, so above 1 means vaezip is smaller.

Where things are: ``run`` (one run, its record), ``measure`` (vaezip on the
images), ``baselines`` (the other codecs), ``machine`` (CPU, flags, versions),
``report`` (the printed table), ``plot`` (the PNG), ``progress``, ``errors``.
"""

from __future__ import annotations

from vaezip.bench.baselines import BASELINES, IMAGE_CODECS, JXL_EFFORT, LABELS, baselines, mosaic, parse_baselines
from vaezip.bench.errors import BenchError, RoundTripError
from vaezip.bench.machine import vector_flags
from vaezip.bench.plot import plot
from vaezip.bench.progress import Progress, quiet
from vaezip.bench.report import format_report
from vaezip.bench.run import SCHEMA, default_estimate_samples, resolve_model, run, to_pictures

__all__ = [
    "run", "format_report", "plot", "baselines", "mosaic", "parse_baselines", "resolve_model", "to_pictures",
    "default_estimate_samples", "vector_flags", "quiet", "Progress", "BenchError", "RoundTripError",
    "SCHEMA", "BASELINES", "IMAGE_CODECS", "JXL_EFFORT", "LABELS",
]
