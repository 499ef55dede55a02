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
"""

from __future__ import annotations

import io
import lzma
import math
import platform
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import numpy as np

SCHEMA = "vaezip-bench/1"
BASELINES = ("png", "webp", "jxl", "xz", "brotli", "zstd")
IMAGE_CODECS = ("png", "webp", "jxl")
JXL_EFFORT = 10  # the strongest setting; one thread, as vaezip codes the sample
LABELS = {
    "png": "PNG (Pillow, optimize=True)",
    "webp": "WebP lossless (method 6)",
    "jxl": f"JPEG XL lossless (effort {JXL_EFFORT})",
    "xz": "xz -9e (raw bytes)",
    "brotli": "brotli 11 (raw bytes)",
    "zstd": "zstd 19 (raw bytes)",
}
WEBP_MAX_SIDE = 16383
DEFAULT_SAMPLES_SMALL = 100  # K for data sets of at most SMALL_SET images
DEFAULT_SAMPLES_LARGE = 16
SMALL_SET = 1000
PLOT_IMAGES = 1000  # images compressed one by one for the plot's per-image bits


class BenchError(ValueError):
    """A bench request that cannot be carried out; the message is one line and says why."""


class RoundTripError(BenchError):
    """An image did not come back exact from vaezip: a bug, never expected."""


def default_estimate_samples(images: int) -> int:
    """K of the importance-sampled estimate when none is given: 100 up to 1000 images, else 16."""
    return DEFAULT_SAMPLES_SMALL if images <= SMALL_SET else DEFAULT_SAMPLES_LARGE


def parse_baselines(text: str) -> tuple[str, ...]:
    """``"png,xz"`` -> ``("png", "xz")``; ``"all"`` -> every one; ``"none"`` or ``""`` -> ()."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    if names in ([], ["none"]):
        return ()
    if names == ["all"]:
        return BASELINES
    unknown = [name for name in names if name not in BASELINES]
    if unknown:
        raise BenchError(f"unknown baseline {unknown[0]!r}; choose from {','.join(BASELINES)}, all or none")
    return tuple(dict.fromkeys(names))


# -- data and model ---------------------------------------------------------------------
def to_pictures(images: np.ndarray) -> list:
    """Pictures of a loaded data set; a grey uint8 set holding only 0 and 1 becomes mode ``1``."""
    from vaezip.images import from_batch

    binary = images.dtype == np.uint8 and images.ndim == 3 and int(images.max(initial=0)) <= 1
    return from_batch(images, "1" if binary else None)


def _shape_text(height: int, width: int, mode: str) -> str:
    return f"{height}x{width} mode {mode}"


def resolve_model(pictures: list, model: str | None) -> str:
    """The model bench uses: ``model`` or the one ``api.choose_model`` picks; ``"none"`` only if asked.

    Raises BenchError when no zoo model fits the images (saying which shapes
    the zoo codes and that ``--model none`` benches the model-free coder), or
    when the named model does not fit them.
    """
    from vaezip import api
    from vaezip.models import zoo

    first = pictures[0]
    here = _shape_text(first.height, first.width, first.mode)
    if model == "none":
        return model
    infos = zoo.list_models()
    if model is not None:
        info = zoo.get_info(model)
        if not api.fits(info, first):
            raise BenchError(f"model {model!r} codes {_model_shape(info)} images, these are {here}; "
                             "pick another with --model, or --model none for the model-free coder")
        return model
    name = api.choose_model(pictures)
    if name == "none":
        shapes = ", ".join(f"{info.name} ({_model_shape(info)})" for info in infos)
        zoo_text = f"the zoo has {shapes}" if shapes else f"the model zoo ({zoo.models_dir()}) is empty"
        raise BenchError(f"no model fits these images ({here}): {zoo_text}; "
                         "bench the model-free coder with --model none")
    return name


def _model_shape(info) -> str:
    mode = "1" if info.config.get("n_values") == 2 else "L"
    return _shape_text(info.config.get("height"), info.config.get("width"), mode)


def _model_record(name: str) -> dict:
    if name == "none":
        return {"name": "none", "arch": None, "sha256": None, "trained_on": None}
    from vaezip.models import zoo

    info = zoo.get_info(name)
    return {"name": name, "arch": info.arch, "sha256": info.sha256, "trained_on": info.dataset or None}


# -- progress -------------------------------------------------------------------------
class _Quiet:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def quiet(description: str, total: int | None) -> _Quiet:
    """The default progress factory: shows nothing."""
    return _Quiet()


Progress = Callable[[str, "int | None"], object]


def _step(progress: Progress, description: str, work: Callable):
    """Run ``work()`` under a one-step progress bar; returns its result and seconds taken."""
    bar = progress(description, 1)
    started = time.perf_counter()
    try:
        result = work()
    finally:
        bar.update(1)
        bar.close()
    return result, time.perf_counter() - started


# -- vaezip itself ----------------------------------------------------------------------
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


def _vaezip(pictures: list, name: str, samples: int, progress: Progress, particles: int = 1,
            estimator: str = "bb-cis", streams: int | None = None) -> tuple[dict, dict]:
    """The vaezip block of the record, and per-image figures for the plot."""
    from vaezip import api

    count = len(pictures)
    # the 1-image archive first: first-image overhead, and a warm-up for the timed runs
    (single, _), _ = _step(progress, "vaezip: 1-image archive",
                           lambda: api.compress(pictures[:1], model=name, estimate_samples=0))
    _check_exact(pictures[:1], api.decompress(single), "the 1-image archive")
    (data, report), compress_s = _step(progress, f"vaezip: compress {count} images",
                                       lambda: api.compress(pictures, model=name, estimate_samples=0,
                                                            particles=particles, estimator=estimator,
                                                            streams=streams))
    decoded, decompress_s = _step(progress, f"vaezip: decompress {count} images", lambda: api.decompress(data))
    _check_exact(pictures, decoded, "the archive")
    peak = _peak_rss_mib()

    neg_elbo = is_bits = None
    estimate_s = 0.0
    vae = [i for i, p in enumerate(report.pictures) if p.coder == "vae"]
    if vae and samples > 0:
        (neg_elbo, is_bits), estimate_s = _estimate(pictures, vae, name, samples, progress)
    vae_dims = sum(pictures[i].pixels.size for i in vae)
    neg_elbo_bpd = None if neg_elbo is None else float(neg_elbo.sum()) / vae_dims
    is_bpd = None if is_bits is None else float(is_bits.sum()) / vae_dims
    bpd = report.bpd
    gap_elbo, gap_elbo_pct = _gap(bpd, neg_elbo_bpd)
    gap_is, gap_is_pct = _gap(bpd, is_bpd)
    share = report.pictures[0].bits
    coders: dict[str, int] = {}
    for picture in report.pictures:
        coders[picture.coder] = coders.get(picture.coder, 0) + 1
    block = {
        "file_bytes": report.file_bytes,
        "bpd": bpd,
        "bits_per_image": 8.0 * report.file_bytes / count,
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
        "first_image": {
            "archive_bits": 8 * len(single),
            "share_bits": share,
            "overhead_bits": 8 * len(single) - share,
            "neg_elbo_bits": None if neg_elbo is None or vae[0] != 0 else float(neg_elbo[0]),
        },
        "compress": {"seconds": compress_s, "images_per_s": count / compress_s},
        "decompress": {"seconds": decompress_s, "images_per_s": count / decompress_s},
        "estimate": {"seconds": estimate_s},
        "peak_rss_mib": peak,
        "exact": True,
    }
    per_image = {
        "achieved_from": "the archive (images of one network batch share its bits)",
        "achieved_bits": [p.bits for p in report.pictures],
        "is_bits": None if is_bits is None else [None] * count,
    }
    if is_bits is not None:
        for j, i in enumerate(vae):
            per_image["is_bits"][i] = float(is_bits[j])
    return block, per_image


def _estimate(pictures, indices, name, samples, progress):
    """−ELBO and IS bits of the pictures ``indices``, in float32 on one torch thread.

    The estimates code nothing, so they need not be bit-exact: float32 is
    three times faster than the coder's float64 and moves them by less than
    1e-3 bits/dim; one thread is faster than two on a shared machine.
    """
    import torch

    from vaezip.models import zoo
    from vaezip.models.density import estimate

    images = np.stack([pictures[i].pixels[:, :, 0] for i in indices]).astype(np.int64)
    bar = progress(f"estimate: -ELBO and IS (K={samples})", len(indices))
    threads = torch.get_num_threads()
    started = time.perf_counter()
    try:
        torch.set_num_threads(1)
        model = zoo.load_model(name, dtype=torch.float32)
        result = estimate(model, images, n_samples=samples, seed=0, progress=bar.update)
    finally:
        torch.set_num_threads(threads)
        bar.close()
    return (result.neg_elbo_bits, result.is_bits), time.perf_counter() - started


def _own_bits(pictures: list, name: str, per_image: dict, progress: Progress) -> dict:
    """Per-image achieved bits from a compress with batch size 1 (each image its own batch)."""
    from vaezip import api

    (_, report), _ = _step(progress, f"vaezip: {len(pictures)} images one by one, for the plot",
                           lambda: api.compress(pictures, model=name, batch_size=1, estimate_samples=0))
    estimated = per_image["is_bits"]
    return {
        "achieved_bits": [p.bits for p in report.pictures],
        "is_bits": None if estimated is None else estimated[:len(pictures)],
        "achieved_from": f"batch size 1, first {len(pictures)} images",
    }


# -- baselines --------------------------------------------------------------------------
@dataclass(frozen=True)
class _Codec:
    """One baseline: ``encode(array, mode) -> bytes`` and ``decode(bytes) -> array`` (for the check)."""

    name: str
    label: str
    encode: Callable
    decode: Callable
    version: str


def _pillow_image(array: np.ndarray, mode: str):
    from PIL import Image

    if mode == "1":
        return Image.fromarray(array.astype(bool))
    return Image.fromarray(array)


def _pillow_pixels(data: bytes, mode: str) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()
        pixels = np.asarray(image)
    if mode == "1":
        return pixels.astype(np.uint8)
    return pixels


def _png_encode(array: np.ndarray, mode: str) -> bytes:
    buffer = io.BytesIO()
    _pillow_image(array, mode).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _webp_encode(array: np.ndarray, mode: str) -> bytes:
    if mode == "1":
        array = array * np.uint8(255)  # WebP has no 1-bit mode
    buffer = io.BytesIO()
    image = _pillow_image(array, "L" if mode == "1" else mode)
    image.save(buffer, format="WEBP", lossless=True, method=6, quality=100, exact=True)
    return buffer.getvalue()


def _webp_decode(data: bytes, mode: str) -> np.ndarray:
    pixels = _pillow_pixels(data, "L")
    if mode in ("1", "L"):
        pixels = pixels[:, :, 0] if pixels.ndim == 3 else pixels
        return pixels // 255 if mode == "1" else pixels
    if mode == "LA":
        return pixels[:, :, [0, 3]]
    if mode == "RGBA" and pixels.shape[2] == 3:  # libwebp drops an alpha channel that is all 255
        return np.dstack([pixels, np.full(pixels.shape[:2], 255, np.uint8)])
    return pixels


def _jxl_codec() -> _Codec | str:
    """JPEG XL lossless through imagecodecs, else pillow-jxl-plugin; a reason string if neither."""
    try:
        import imagecodecs

        if imagecodecs.JPEGXL.available:
            return _Codec(
                "jxl", LABELS["jxl"],
                lambda a, m: imagecodecs.jpegxl_encode(a, lossless=True, effort=JXL_EFFORT, numthreads=1),
                lambda d, m: imagecodecs.jpegxl_decode(d),
                f"imagecodecs {imagecodecs.__version__} ({imagecodecs.jpegxl_version()})",
            )
    except ImportError:
        pass
    try:
        import pillow_jxl  # noqa: F401  (registers the JXL plugin with Pillow)
    except ImportError:
        return "skipped: not installed (pip install imagecodecs, or pillow-jxl-plugin)"

    def encode(array, mode):
        buffer = io.BytesIO()
        image = _pillow_image(array * np.uint8(255) if mode == "1" else array, "L" if mode == "1" else mode)
        image.save(buffer, format="JXL", lossless=True, effort=JXL_EFFORT)
        return buffer.getvalue()

    def decode(data, mode):
        pixels = _pillow_pixels(data, "L")
        return pixels // 255 if mode == "1" else pixels

    return _Codec("jxl", LABELS["jxl"], encode, decode,
                  f"pillow-jxl-plugin {_version('pillow-jxl-plugin')}")


def _version(distribution: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "?"


def _image_codec(name: str) -> _Codec | str:
    import PIL
    from PIL import features

    if name == "png":
        return _Codec("png", LABELS["png"], _png_encode, _pillow_pixels, f"Pillow {PIL.__version__}")
    if name == "webp":
        if not features.check("webp"):
            return "skipped: this Pillow has no WebP support"
        return _Codec("webp", LABELS["webp"], _webp_encode, _webp_decode,
                      f"Pillow {PIL.__version__} (libwebp {features.version('webp')})")
    return _jxl_codec()


def _bytes_codec(name: str) -> _Codec | str:
    if name == "xz":
        return _Codec("xz", LABELS["xz"], lambda b: lzma.compress(b, preset=9 | lzma.PRESET_EXTREME),
                      lzma.decompress, f"Python {platform.python_version()} lzma")
    if name == "brotli":
        try:
            import brotli

            return _Codec("brotli", LABELS["brotli"], lambda b: brotli.compress(b, quality=11),
                          brotli.decompress, f"brotli {_version('brotli')}")
        except ImportError:
            pass
        return _imagecodecs_bytes("brotli", LABELS["brotli"], lambda ic, b: ic.brotli_encode(b, level=11),
                                  lambda ic, b: ic.brotli_decode(b), "pip install brotli")
    try:
        import zstandard

        return _Codec("zstd", LABELS["zstd"], lambda b: zstandard.ZstdCompressor(level=19).compress(b),
                      lambda b: zstandard.ZstdDecompressor().decompress(b), f"zstandard {zstandard.__version__}")
    except ImportError:
        pass
    return _imagecodecs_bytes("zstd", LABELS["zstd"], lambda ic, b: ic.zstd_encode(b, level=19),
                              lambda ic, b: ic.zstd_decode(b), "pip install zstandard")


def _imagecodecs_bytes(name, label, encode, decode, hint) -> _Codec | str:
    try:
        import imagecodecs
    except ImportError:
        return f"skipped: not installed ({hint})"
    if not getattr(imagecodecs, name.upper()).available:
        return f"skipped: not installed ({hint})"
    return _Codec(name, label, lambda b: encode(imagecodecs, b), lambda b: decode(imagecodecs, b),
                  f"imagecodecs {imagecodecs.__version__}")


def mosaic(arrays: list[np.ndarray]) -> np.ndarray:
    """The images tiled ``ceil(sqrt(N))`` to a row, in order, row by row; empty tiles are zeros."""
    count = len(arrays)
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    height, width = arrays[0].shape[:2]
    grid = np.zeros((rows * height, columns * width) + arrays[0].shape[2:], dtype=arrays[0].dtype)
    for index, array in enumerate(arrays):
        r, c = divmod(index, columns)
        grid[r * height:(r + 1) * height, c * width:(c + 1) * width] = array
    return grid


def _image_array(picture) -> np.ndarray:
    pixels = picture.pixels
    return pixels[:, :, 0] if pixels.shape[2] == 1 else pixels


def _unsupported(mode: str, codec: str) -> str | None:
    if mode not in ("1", "L", "LA", "RGB", "RGBA") and not (codec == "png" and mode == "I;16"):
        return f"skipped: {codec} baseline does not take mode {mode} images"
    return None


def _row(name, label, layout, version, status="ok", data_bytes=None, seconds=None, dims=1, vaezip_bits=1.0):
    bits = None if data_bytes is None else 8 * data_bytes
    return {
        "name": name, "label": label, "layout": layout, "codec": version, "status": status,
        "bytes": data_bytes,
        "bpd": None if bits is None else bits / dims,
        "ratio": None if bits is None else bits / vaezip_bits,
        "seconds": seconds,
    }


def _image_rows(name: str, pictures: list, dims: int, vaezip_bits: float, progress: Progress) -> list[dict]:
    codec = _image_codec(name)
    label = LABELS[name]
    mode = pictures[0].mode
    reason = codec if isinstance(codec, str) else _unsupported(mode, name)
    if reason:
        return [_row(name, label, layout, None, reason) for layout in ("per-image", "mosaic")]
    arrays = [_image_array(p) for p in pictures]
    rows = []
    total, bar = 0, progress(f"{name}: per image", len(arrays))
    started = time.perf_counter()
    try:
        for array in arrays:
            data = codec.encode(array, mode)
            if not np.array_equal(codec.decode(data, mode), array):
                raise BenchError(f"the {name} baseline did not decode an image exactly; its row is not valid")
            total += len(data)
            bar.update(1)
    finally:
        bar.close()
    rows.append(_row(name, codec.label, "per-image", codec.version, "ok", total, time.perf_counter() - started,
                     dims, vaezip_bits))
    grid = mosaic(arrays)
    if name == "webp" and max(grid.shape[:2]) > WEBP_MAX_SIDE:
        rows.append(_row(name, codec.label, "mosaic", codec.version,
                         f"skipped: mosaic {grid.shape[1]}x{grid.shape[0]} exceeds WebP's {WEBP_MAX_SIDE} px"))
        return rows

    def encode_mosaic():
        data = codec.encode(grid, mode)
        if not np.array_equal(codec.decode(data, mode), grid):
            raise BenchError(f"the {name} baseline did not decode the mosaic exactly; its row is not valid")
        return data

    data, seconds = _step(progress, f"{name}: mosaic {grid.shape[1]}x{grid.shape[0]}", encode_mosaic)
    rows.append(_row(name, codec.label, "mosaic", codec.version, "ok", len(data), seconds, dims, vaezip_bits))
    return rows


def _bytes_rows(name: str, raw: bytes, dims: int, vaezip_bits: float, progress: Progress) -> list[dict]:
    codec = _bytes_codec(name)
    label = LABELS[name]
    if isinstance(codec, str):
        return [_row(name, label, "raw", None, codec)]

    def encode():
        data = codec.encode(raw)
        if codec.decode(data) != raw:
            raise BenchError(f"the {name} baseline did not decode the raw bytes exactly")
        return data

    data, seconds = _step(progress, f"{name}: {len(raw)} raw bytes", encode)
    return [_row(name, codec.label, "raw", codec.version, "ok", len(data), seconds, dims, vaezip_bits)]


def _raw_bytes(pictures: list) -> bytes:
    return b"".join(p.pixels.astype(p.pixels.dtype.newbyteorder("<"), copy=False).tobytes() for p in pictures)


def baselines(pictures: list, names: tuple[str, ...], vaezip_bits: float, progress: Progress = quiet) -> list[dict]:
    """Rows of the baselines ``names`` (order of ``BASELINES``) on ``pictures``; see the module docstring."""
    dims = sum(p.pixels.size for p in pictures)
    rows: list[dict] = []
    for name in BASELINES:
        if name not in names:
            continue
        if name in IMAGE_CODECS:
            rows += _image_rows(name, pictures, dims, vaezip_bits, progress)
        else:
            rows += _bytes_rows(name, _raw_bytes(pictures), dims, vaezip_bits, progress)
    return rows


# -- the whole run --------------------------------------------------------------------
def _environment() -> tuple[dict, dict]:
    import os

    import numpy
    import PIL

    import vaezip

    machine = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": _cpu_name(),
        "vector_flags": vector_flags(),
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    versions = {"vaezip": vaezip.__version__, "python": platform.python_version(), "numpy": numpy.__version__,
                "Pillow": PIL.__version__}
    for module in ("torch", "numba"):
        if module in sys.modules:
            versions[module] = sys.modules[module].__version__
    return machine, versions


def vector_flags() -> list[str]:
    """The CPU's AVX/FMA/AMX flags from /proc/cpuinfo (torch picks its float32 kernels by them)."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("flags"):
                    return sorted(f for f in line.split(":", 1)[1].split() if f.startswith(("avx", "fma", "amx")))
    except OSError:
        pass
    return []


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run(
    spec: str = "sample",
    model: str | None = None,
    limit: int | None = None,
    particles: int = 1,
    estimate_samples: int | None = None,
    estimator: str = "bb-cis",
    streams: int | None = None,
    baseline_names: tuple[str, ...] = BASELINES,
    progress: Progress = quiet,
    command: str | None = None,
    per_image_bits: bool = False,
) -> tuple[dict, dict]:
    """Bench ``spec`` (a named split or a path): ``(record, per_image)``.

    ``record`` is the JSON of docs/bench.md; ``per_image`` holds the
    per-image achieved bits and IS estimates (for ``plot``). In the archive
    the images of one network batch share its bits equally; with
    ``per_image_bits`` the first ``PLOT_IMAGES`` images are compressed once
    more with batch size 1, so each one's achieved bits are its own. Raises
    BenchError (RoundTripError if an image does not come back exact),
    ``vaezip.datasets.DatasetError`` and the errors of ``vaezip.api``.
    """
    from vaezip.datasets import load

    started_at = datetime.now(timezone.utc)
    started = time.perf_counter()
    images = load(spec)
    if limit is not None:
        images = images[:limit]
    pictures = to_pictures(images)
    name = resolve_model(pictures, model)
    if estimate_samples is not None:
        samples = estimate_samples
    else:  # with K particles the estimate to compare with is the K-sample one
        samples = particles if particles > 1 else default_estimate_samples(len(pictures))
    block, per_image = _vaezip(pictures, name, samples, progress, particles, estimator, streams)
    if per_image_bits and name != "none":
        per_image.update(_own_bits(pictures[:PLOT_IMAGES], name, per_image, progress))
    first = pictures[0]
    dims = sum(p.pixels.size for p in pictures)
    rows = baselines(pictures, baseline_names, 8.0 * block["file_bytes"], progress)
    machine, versions = _environment()
    record = {
        "schema": SCHEMA,
        "command": command,
        "started": started_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "dataset": {"spec": spec, "images": len(pictures), "height": first.height, "width": first.width,
                    "channels": int(first.pixels.shape[2]), "mode": first.mode, "dims": dims,
                    "limit": limit},
        "model": _model_record(name),
        "particles": particles,
        "estimator": "bb-ans" if particles == 1 else estimator,
        "vaezip": block,
        "baselines": rows,
        "machine": machine,
        "versions": versions,
        "wall_seconds": time.perf_counter() - started,
    }
    return record, per_image


# -- output ----------------------------------------------------------------------------
_SHORT = {"png": "PNG (optimize)", "webp": "WebP lossless m6", "jxl": f"JPEG XL lossless e{JXL_EFFORT}",
          "xz": "xz -9e", "brotli": "brotli 11", "zstd": "zstd 19"}


def format_report(record: dict) -> str:
    """The human-readable table ``vaezip bench`` prints."""
    data, v, model = record["dataset"], record["vaezip"], record["model"]
    k = v["estimate_samples"]
    lines = [
        f"vaezip bench {data['spec']}: {data['images']} images of {data['height']}x{data['width']} "
        f"mode {data['mode']}, {data['dims']:,} dims; model {model['name']}; particles {record['particles']}",
        "",
        f"{'codec':22} {'layout':11} {'bits/dim':>8} {'bytes':>10} {'x vaezip':>8} {'seconds':>8}",
        f"{'vaezip':22} {'archive':11} {v['bpd']:8.4f} {v['file_bytes']:10,d} {1.0:8.3f} "
        f"{v['compress']['seconds']:8.2f}",
    ]
    if v["neg_elbo_bpd"] is not None:
        lines += [
            f"{'  model -ELBO':34} {v['neg_elbo_bpd']:8.4f}",
            f"{f'  IS -log q(x), K={k}':34} {v['is_bpd']:8.4f}",
            f"{'  gap achieved - (-ELBO)':34} {v['gap_neg_elbo_bpd']:8.4f}  ({v['gap_neg_elbo_percent']:+.2f} %)",
            f"{'  gap achieved - IS':34} {v['gap_is_bpd']:8.4f}  ({v['gap_is_percent']:+.2f} %)",
        ]
    else:
        lines.append("  no -ELBO / IS estimates (model-free coder, or --estimate-samples 0)")
    for row in record["baselines"]:
        label = f"{_SHORT[row['name']]:22} {row['layout']:11}"
        if row["status"] != "ok":
            lines.append(f"{label} {row['status']}")
            continue
        lines.append(f"{label} {row['bpd']:8.4f} {row['bytes']:10,d} {row['ratio']:8.3f} {row['seconds']:8.2f}")
    first = v["first_image"]
    lines += [
        "",
        f"first image alone: {first['archive_bits']:,} bits as a 1-image archive, {first['share_bits']:,.0f} "
        f"bits as its share of the set: {first['overhead_bits']:,.0f} bits of first-image overhead",
        f"compress   {v['compress']['seconds']:7.2f} s {v['compress']['images_per_s']:9.1f} images/s"
        f"   ({v['streams']} streams; coders {', '.join(f'{c} {n}' for c, n in v['coders'].items())})",
        f"decompress {v['decompress']['seconds']:7.2f} s {v['decompress']['images_per_s']:9.1f} images/s"
        "   (every image checked exact)",
    ]
    if k:
        lines.append(f"estimate   {v['estimate']['seconds']:7.2f} s (-ELBO and IS with K={k})")
    peak = "-" if v["peak_rss_mib"] is None else f"{v['peak_rss_mib']:.0f}"
    lines.append(f"peak memory {peak} MiB (ru_maxrss of the process, after vaezip, "
                 f"before the baselines); wall {record['wall_seconds']:.1f} s")
    lines.append("x vaezip = baseline bits / vaezip bits (above 1: vaezip is smaller)")
    return "\n".join(lines)


def plot(record: dict, per_image: dict, path) -> None:
    """Write a PNG: per-image achieved bits vs IS −log q(x) (with y = x), and bits/dim per codec.

    Needs matplotlib (``ImportError`` otherwise; the CLI checks first).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    v = record["vaezip"]
    figure, (scatter, bars) = plt.subplots(1, 2, figsize=(12, 5), gridspec_kw={"width_ratios": [1, 1.4]})
    achieved, estimated = per_image["achieved_bits"], per_image["is_bits"]
    if estimated is not None:
        pairs = [(x, y) for x, y in zip(estimated, achieved) if x is not None]
        xs, ys = zip(*pairs)
        scatter.scatter(xs, ys, s=8, alpha=0.6, label="images")
        low, high = min(min(xs), min(ys)), max(max(xs), max(ys))
        scatter.plot([low, high], [low, high], color="black", linewidth=1, label="y = x")
        scatter.set_xlabel(f"IS estimate of -log q(x), K={v['estimate_samples']} (bits)")
        scatter.legend()
    else:
        scatter.text(0.5, 0.5, "no -log q(x) estimates\n(model-free coder)", ha="center", va="center",
                     transform=scatter.transAxes)
        scatter.set_xlabel("-log q(x) (bits)")
    scatter.set_ylabel(f"achieved bits ({per_image['achieved_from']})", fontsize=8)
    scatter.set_title("vaezip per image")
    names, values = ["vaezip"], [v["bpd"]]
    if v["neg_elbo_bpd"] is not None:
        names += ["-ELBO", f"IS K={v['estimate_samples']}"]
        values += [v["neg_elbo_bpd"], v["is_bpd"]]
    for row in record["baselines"]:
        if row["status"] == "ok":
            names.append(f"{row['name']} {row['layout']}")
            values.append(row["bpd"])
    colours = ["tab:red"] + ["tab:orange"] * (2 if v["neg_elbo_bpd"] is not None else 0)
    colours += ["tab:blue"] * (len(names) - len(colours))
    bars.bar(range(len(names)), values, color=colours)
    bars.set_xticks(range(len(names)), names, rotation=45, ha="right")
    bars.set_ylabel("bits per dimension")
    data = record["dataset"]
    bars.set_title(f"{data['spec']}: {data['images']} images, model {record['model']['name']}")
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=100)
    plt.close(figure)
