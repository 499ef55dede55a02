"""The checks every field passes, on writing and on reading (docs/format.md).

``check_header``, ``check_entry``, ``check_totals`` and ``check_stream`` raise
``Invalid`` for a record out of range (``write`` reports it as ValueError,
``read`` as CorruptError); ``check_magic`` and ``check_version`` raise the
public errors of a file that is not a .vz file or is of a later version.
"""

from __future__ import annotations

import struct
import zlib
from typing import Sequence

import numpy as np

from vaezip import __version__
from vaezip.format.errors import CorruptError, TruncatedError, VersionError, require
from vaezip.format.records import (
    BB_ANS,
    CHECKSUM_SIZE,
    CODER_PER_TILE,
    CODER_VAE,
    CODERS,
    COMPACT_MAGIC,
    ESTIMATORS,
    FORMAT_VERSION,
    KEY_CHANNELS,
    MAGIC,
    MAX_BATCH,
    MAX_IMAGE_NAME,
    MAX_IMAGES,
    MAX_PARTICLES,
    MAX_PIXELS,
    MAX_PRECISION,
    MAX_SIDE,
    MAX_STREAMS,
    MODE_IDS,
    MODEL_FREE,
    MODEL_NAME,
    PNG_BIT_DEPTHS,
    TILE_CODERS,
    WEIGHTS_ID_SIZE,
    Header,
    ImageEntry,
    Stream,
    StreamEntry,
)


def check_header(header: Header) -> None:
    require(header.version in WEIGHTS_ID_SIZE, f"format version {header.version} is not one of 1..{FORMAT_VERSION}")
    require(header.flags == 0, f"flags {header.flags:#x} are not defined in format version {header.version}")
    require(
        len(header.writer) == 3 and all(0 <= v < 1 << 16 for v in header.writer),
        f"writer version {header.writer!r} must be three integers in 0..65535",
    )
    require(
        isinstance(header.model, str) and MODEL_NAME.fullmatch(header.model) is not None,
        f"model name {header.model!r} must be 1..64 characters of [a-z0-9._-]",
    )
    id_size = WEIGHTS_ID_SIZE[header.version]
    require(len(header.model_sha256) == id_size, f"model sha256 must be {id_size} bytes in version {header.version}")
    require(
        (header.model == MODEL_FREE) == (header.model_sha256 == bytes(id_size)),
        'model sha256 must be all zero exactly when the model is "none"',
    )
    for name in ("likelihood_precision", "posterior_precision", "latent_bits"):
        value = getattr(header, name)
        require(1 <= value <= MAX_PRECISION, f"{name} {value} is outside 1..{MAX_PRECISION}")
    require(
        header.latent_bits <= header.posterior_precision,
        f"latent_bits {header.latent_bits} exceeds posterior_precision {header.posterior_precision}",
    )
    require(header.estimator in ESTIMATORS, f"estimator {header.estimator} is not one of {sorted(ESTIMATORS)}")
    require(1 <= header.particles <= MAX_PARTICLES, f"particles {header.particles} is outside 1..{MAX_PARTICLES}")
    require(
        (header.estimator == BB_ANS) == (header.particles == 1),
        f"estimator {ESTIMATORS[header.estimator]} does not go with {header.particles} particles",
    )
    require(1 <= header.batch_size <= MAX_BATCH, f"batch size {header.batch_size} is outside 1..{MAX_BATCH}")


def check_image_name(name: str) -> None:
    require(isinstance(name, str), f"image name {name!r} is not a string")
    require(len(name.encode("utf-8")) <= MAX_IMAGE_NAME, f"image name {name[:40]!r}... is over 255 bytes")
    require(
        name not in (".", "..") and not any(c in "/\\" or ord(c) < 0x20 or ord(c) == 0x7F for c in name),
        f"image name {name!r} must be a file name without '/', '\\' or control characters",
    )


def check_entry(entry: ImageEntry, model_free: bool) -> None:
    require(entry.mode in MODE_IDS, f"mode {entry.mode!r} is not one of {sorted(MODE_IDS)}")
    require(1 <= entry.count <= MAX_IMAGES, f"image count {entry.count} is outside 1..{MAX_IMAGES}")
    for side in ("height", "width"):
        value = getattr(entry, side)
        require(1 <= value <= MAX_SIDE, f"image {side} {value} is outside 1..{MAX_SIDE}")
    require(entry.coder in CODERS, f"coder {entry.coder} is not one of {sorted(CODERS)}")
    per_tile = entry.coder == CODER_PER_TILE
    require(per_tile == (len(entry.tile_coders) > 0), "tile coders must be given exactly for a per-tile entry")
    require(
        all(kind in TILE_CODERS for kind in set(entry.tile_coders)),
        f"a tile coder must be one of {TILE_CODERS}",
    )
    uses_vae = entry.coder == CODER_VAE or CODER_VAE in entry.tile_coders
    require(not (model_free and uses_vae), 'a file with model "none" cannot use the VAE coder')
    if entry.mode == "P":
        require(entry.palette_channels in (3, 4), f"palette channels {entry.palette_channels} is not 3 or 4")
        entries, rest = divmod(len(entry.palette), entry.palette_channels)
        require(rest == 0 and 1 <= entries <= 256, "a palette must hold 1..256 whole entries")
    else:
        require(entry.palette == b"" and entry.palette_channels == 0, f"mode {entry.mode} has no palette")
    require(
        entry.png_bit_depth == 0 or entry.png_bit_depth in PNG_BIT_DEPTHS[entry.mode],
        f"a PNG of mode {entry.mode} cannot have bit depth {entry.png_bit_depth}",
    )
    if entry.transparency:
        require(
            len(entry.transparency) == KEY_CHANNELS.get(entry.mode, -1)
            and all(0 <= v < (1 << entry.bit_depth) for v in entry.transparency),
            f"colour key {entry.transparency} does not fit mode {entry.mode}",
        )
    require(len(entry.names) in (0, entry.count), f"{len(entry.names)} names given for {entry.count} images")
    for name in entry.names:
        check_image_name(name)


def check_totals(images: Sequence[ImageEntry], streams: Sequence[StreamEntry], checksums: Sequence[bytes],
                 checksum_size: int = CHECKSUM_SIZE) -> None:
    total_images = sum(entry.count for entry in images)
    require(total_images <= MAX_IMAGES, f"{total_images} images exceed the cap of {MAX_IMAGES}")
    total_pixels = sum(entry.pixels for entry in images)
    require(total_pixels <= MAX_PIXELS, f"{total_pixels} pixels exceed the cap of {MAX_PIXELS}")
    require(len(checksums) == len(images), f"{len(checksums)} checksums for {len(images)} image entries")
    require(all(len(c) == checksum_size for c in checksums), f"a checksum must be {checksum_size} bytes")
    require(len(streams) <= MAX_STREAMS, f"{len(streams)} streams exceed the cap of {MAX_STREAMS}")
    for stream in streams:
        check_stream(stream)
    carried = sum(stream.image_count for stream in streams)
    require(carried == total_images, f"the streams carry {carried} images, the image table lists {total_images}")


def check_stream(stream: StreamEntry) -> None:
    require(stream.image_count >= 1, "a stream must carry at least one image")
    require(stream.word_count >= 2, f"a stream needs at least 2 words (its state), has {stream.word_count}")
    require(
        0 <= stream.fillers <= stream.word_count - 2,
        f"filler count {stream.fillers} does not fit a stream of {stream.word_count} words",
    )


def stream_words(stream: Stream) -> np.ndarray:
    words = np.asarray(stream.words)
    require(words.ndim == 1 and words.dtype.kind in "iu", "stream words must be a 1-d integer array")
    require(
        words.size == 0 or (int(words.min()) >= 0 and int(words.max()) <= 0xFFFFFFFF),
        "stream words must fit in 32 bits",
    )
    require(words.size < 2 or int(words[-1]) != 0, "a stream's final state must be at least 2**32 (last word 0)")
    return words.astype("<u4")


def version_text(version: Sequence[int]) -> str:
    return ".".join(str(v) for v in version)


def check_magic(data) -> bool:
    """Whether ``data`` starts with the one-image signature (True) or the signature of other files (False)."""
    head = bytes(data[: len(MAGIC)])
    if head == MAGIC or head[: len(COMPACT_MAGIC)] == COMPACT_MAGIC:
        return head != MAGIC
    if any(len(head) < len(magic) and magic.startswith(head) for magic in (MAGIC, COMPACT_MAGIC)):
        raise TruncatedError(f"the file ends after {len(head)} bytes, inside its signature: re-copy the whole file")
    if head.startswith(MAGIC[:7]) or head[1:3] == COMPACT_MAGIC[1:3]:
        raise CorruptError(
            "the .vz signature is damaged (line endings or high bits changed by a text-mode transfer): "
            "copy the file again in binary mode"
        )
    raise CorruptError("not a .vz file (no vaezip signature at its start)")


def check_version(version: int, flags: int, writer: tuple[int, int, int]) -> None:
    if version > FORMAT_VERSION or flags:
        what = f"format version {version}" if version > FORMAT_VERSION else f"feature flags {flags:#06x}"
        raise VersionError(
            f"this .vz file uses {what} (written by vaezip {version_text(writer)}); vaezip {__version__} "
            f"reads format versions 1..{FORMAT_VERSION} only: upgrade to vaezip >= {version_text(writer)}"
        )


def check_whole_file(data, file_size: int) -> None:
    """``data`` is exactly ``file_size`` bytes and its last 4 are the CRC-32 of the rest (every layout's end)."""
    if len(data) < file_size:
        raise TruncatedError(
            f"the file is truncated: {len(data)} of its {file_size} bytes are present; re-copy the whole file"
        )
    if len(data) > file_size:
        raise CorruptError(f"{len(data) - file_size} unexpected bytes follow the end of the .vz data")
    (stored_crc,) = struct.unpack_from("<I", data, file_size - 4)
    if zlib.crc32(data[: file_size - 4]) != stored_crc:
        raise CorruptError("the file CRC does not match: the file is corrupt; restore it from a good copy")
