"""The .vz container, format versions 1 and 2: see ``docs/format.md``, the normative spec.

A .vz file is a preamble, a header (model, codec parameters, image table,
checksum table, stream table, header CRC), the payload (every stream's uint32
words) and a CRC-32 of everything before it. ``write`` writes version 2 (its
counts and sizes as LEB128 varints, a 16-byte weights id) unless the header
asks for version 1 (fixed-width fields, a 40-byte preamble, the whole sha256);
``read`` reads both. This module only packs and unpacks; it never codes pixels.

Reading validates every field before anything is allocated: a length is
compared with the bytes that remain before it is used, and counts are capped
(``MAX_IMAGES``, ``MAX_PIXELS``, ``MAX_STREAMS``, ``MAX_SIDE``). Bad input
raises one of

- ``TruncatedError``: the file ends before its declared size;
- ``CorruptError``: not a .vz file, a CRC mismatch, or a field out of range;
- ``VersionError``: a later format version (the message names the vaezip
  version that wrote it).

All three are ``ContainerError``, itself a ``ValueError``. Only numpy and the
standard library are imported.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from vaezip import __version__

FORMAT_VERSION = 2  # what ``write`` writes by default; ``read`` reads every version up to it
MAGIC = b"VAEZIP\x00\x89\r\n\x1a\n"  # docs/format.md, "Preamble"
PREAMBLE_SIZE = 40  # version 1's fixed preamble
# Bytes of the weights' sha256 that a header stores: version 2 keeps the first 16
# (128 bits, the strength of the pixel checksum) instead of all 32.
WEIGHTS_ID_SIZE = {1: 32, 2: 16}
CHECKSUM_SIZE = 16  # bytes of sha256 kept per image entry

MAX_IMAGES = 1 << 20
MAX_PIXELS = 1 << 31
MAX_STREAMS = 1 << 16
MAX_SIDE = 1 << 16
MAX_MODEL_NAME = 64
MAX_IMAGE_NAME = 255
MAX_PRECISION = 24  # the same bound as vaezip.rans (not imported: it pulls numba)
MAX_PARTICLES = 4096
MAX_BATCH = 1 << 16

MODEL_FREE = "none"  # model name of a file no tile of which uses a network

# Estimators (codec parameters, "estimator" byte).
BB_ANS, BB_IS, BB_CIS = 0, 1, 2
ESTIMATORS = {BB_ANS: "bb-ans", BB_IS: "bb-is", BB_CIS: "bb-cis"}

# Coders (image entry, "coder" byte; per-tile bytes use the first two).
CODER_VAE, CODER_MODEL_FREE, CODER_STORED, CODER_PER_TILE = 0, 1, 2, 255
CODERS = {CODER_VAE: "vae", CODER_MODEL_FREE: "model-free", CODER_STORED: "stored-png", CODER_PER_TILE: "per-tile"}
TILE_CODERS = (CODER_VAE, CODER_MODEL_FREE)

# Original PNG modes: enum value -> (name, channels, bit depth).
MODES = {
    0: ("1", 1, 1),
    1: ("L", 1, 8),
    2: ("LA", 2, 8),
    3: ("RGB", 3, 8),
    4: ("RGBA", 4, 8),
    5: ("P", 1, 8),
    6: ("I;16", 1, 16),
    7: ("LA;16", 2, 16),
    8: ("RGB;16", 3, 16),
    9: ("RGBA;16", 4, 16),
}
MODE_IDS = {name: mode_id for mode_id, (name, _, _) in MODES.items()}

_MODEL_NAME = re.compile(r"[a-z0-9._-]{1,64}")
_ENTRY_HAS_NAMES = 0x01
_ENTRY_HAS_PNG = 0x02  # PNG extras follow: original IHDR bit depth and colour key
# PNG IHDR bit depths each mode may have been read from (docs/format.md, "PNG extras")
PNG_BIT_DEPTHS = {
    "1": (1,), "L": (2, 4, 8), "LA": (8,), "RGB": (8,), "RGBA": (8,), "P": (1, 2, 4, 8),
    "I;16": (16,), "LA;16": (16,), "RGB;16": (16,), "RGBA;16": (16,),
}
KEY_CHANNELS = {"1": 1, "L": 1, "I;16": 1, "RGB": 3, "RGB;16": 3}  # modes that may have a colour key

# struct formats, one per fixed-size record of docs/format.md
_PREAMBLE = struct.Struct("<12sHHHHHHQI")  # without its CRC
_ENTRY = struct.Struct("<IIIBBBBB")
_STREAM = struct.Struct("<IQI")
_U8, _U32 = struct.Struct("<B"), struct.Struct("<I")
_LEAD = struct.Struct("<12sHB")  # version 2 and later: magic, format_version, flags
_MAX_VARINT = 10  # bytes of a LEB128 number below 2**64
# smallest records of version 2: an image entry (count, height, width, mode, coder,
# flags) and a stream entry (image count, word count, fillers)
_MIN_ENTRY_V2, _MIN_STREAM_V2 = 6, 3


# -- errors ---------------------------------------------------------------
class ContainerError(ValueError):
    """A .vz file that cannot be read; the message says what is wrong and what to do."""


class TruncatedError(ContainerError):
    """The file ends before the size it declares (an interrupted copy or download)."""


class CorruptError(ContainerError):
    """Not a .vz file, or one whose bytes were changed (CRC mismatch, invalid field)."""


class VersionError(ContainerError):
    """A .vz file of a format version (or feature) this vaezip cannot read."""


class _Invalid(Exception):
    """A field out of its valid range; ``read`` reports it as CorruptError, ``write`` as ValueError."""


class _Short(_Invalid):
    """A field runs past the end of what the cursor may read."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise _Invalid(message)


# -- records ----------------------------------------------------------------
def _this_version() -> tuple[int, int, int]:
    parts = [int(p) for p in re.findall(r"\d+", __version__)[:3]]
    return tuple(parts + [0] * (3 - len(parts)))  # type: ignore[return-value]


@dataclass(frozen=True)
class Header:
    """Model and codec parameters (docs/format.md, "Model" and "Codec parameters").

    ``model_sha256`` identifies the weights file: the first
    ``WEIGHTS_ID_SIZE[version]`` bytes of its sha256 (16 in version 2, all 32
    in version 1; ``weights_id`` cuts them); all zero exactly when
    ``model == "none"`` (a file coded without a network).
    """

    model: str = MODEL_FREE
    model_sha256: bytes | None = None  # None: all zero, of the version's size
    likelihood_precision: int = 16
    posterior_precision: int = 16
    latent_bits: int = 12
    estimator: int = BB_ANS
    particles: int = 1
    batch_size: int = 1
    flags: int = 0
    version: int = FORMAT_VERSION
    writer: tuple[int, int, int] = field(default_factory=_this_version)

    def __post_init__(self):
        if self.model_sha256 is None:
            object.__setattr__(self, "model_sha256", bytes(WEIGHTS_ID_SIZE.get(self.version, 32)))


@dataclass(frozen=True)
class ImageEntry:
    """``count`` consecutive images of one shape and mode (docs/format.md, "Image table").

    Images in one entry share height, width, mode, palette and coder; a
    single image is an entry with ``count == 1``. ``names`` is empty (no
    names) or one name per image ("" for an unnamed one). ``tile_coders``
    holds one byte per tile (``CODER_VAE`` or ``CODER_MODEL_FREE``), images in
    order, exactly when ``coder == CODER_PER_TILE``. ``palette`` (mode "P"
    only) is ``entries * palette_channels`` bytes, RGB or RGBA.
    ``png_bit_depth`` (0: not recorded) is the IHDR bit depth of the PNG the
    images came from, and ``transparency`` their PNG colour key (one sample,
    or three for RGB modes, on the samples' scale; empty: none), so that
    decompression writes back the same kind of PNG.
    """

    height: int
    width: int
    mode: str = "L"
    count: int = 1
    coder: int = CODER_VAE
    tile_coders: bytes = b""
    palette: bytes = b""
    palette_channels: int = 0
    names: tuple[str, ...] = ()
    png_bit_depth: int = 0
    transparency: tuple[int, ...] = ()

    @property
    def channels(self) -> int:
        return MODES[MODE_IDS[self.mode]][1]

    @property
    def bit_depth(self) -> int:
        return MODES[MODE_IDS[self.mode]][2]

    @property
    def pixels(self) -> int:
        """Pixels in the whole entry (``count * height * width``)."""
        return self.count * self.height * self.width


@dataclass(frozen=True)
class StreamEntry:
    """One row of the stream table (docs/format.md, "Stream table")."""

    image_count: int
    word_count: int
    fillers: int


@dataclass
class Stream:
    """One coded stream: ``Message.to_words()`` output, its filler count, its images.

    The stream carries the next ``image_count`` images of the image table.
    Decode it with ``Message.from_words(words)`` and finish with
    ``msg.finish(fillers)``.
    """

    words: np.ndarray
    fillers: int = 0
    image_count: int = 1

    @property
    def entry(self) -> StreamEntry:
        return StreamEntry(self.image_count, int(np.asarray(self.words).shape[0]), self.fillers)


@dataclass
class Archive:
    """Everything in a .vz file: ``checksums[i]`` belongs to ``images[i]``."""

    header: Header
    images: list[ImageEntry]
    streams: list[Stream]
    checksums: list[bytes]


@dataclass(frozen=True)
class Contents:
    """What ``read_header`` returns: the file without its payload (for ``vaezip info``)."""

    header: Header
    images: list[ImageEntry]
    streams: list[StreamEntry]
    checksums: list[bytes]
    header_size: int
    file_size: int


def weights_id(sha256: bytes, version: int = FORMAT_VERSION) -> bytes:
    """What a header of ``version`` stores of a weights file's ``sha256`` (``Header.model_sha256``)."""
    return bytes(sha256[: WEIGHTS_ID_SIZE[version]])


# -- pixel checksum -------------------------------------------------------------
def _canonical_bytes(pixels, bit_depth: int | None) -> bytes:
    """One image in the canonical layout of docs/format.md, "Pixel checksum"."""
    array = np.asarray(pixels)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or 0 in array.shape:
        raise ValueError(f"an image must be a non-empty (H, W) or (H, W, C) array, got shape {array.shape}")
    if bit_depth is None:
        if array.dtype not in (np.bool_, np.uint8, np.uint16):
            raise TypeError(f"pass bit_depth for pixels of dtype {array.dtype} (bool, uint8, uint16 need none)")
        bit_depth = 16 if array.dtype == np.uint16 else 8
    if not 1 <= bit_depth <= 16:
        raise ValueError(f"bit_depth must be in 1..16, got {bit_depth}")
    if array.dtype.kind not in "biu":
        raise TypeError(f"pixels must be integers, got dtype {array.dtype}")
    if array.min() < 0 or array.max() >= (1 << bit_depth):
        raise ValueError(f"pixel values must lie in [0, 2**{bit_depth})")
    sample = "<u2" if bit_depth > 8 else "u1"
    height, width, channels = array.shape
    prefix = struct.pack("<IIIB", height, width, channels, np.dtype(sample).itemsize)
    return prefix + np.ascontiguousarray(array, dtype=sample).tobytes()


def pixel_checksum(pixels, bit_depth: int | None = None) -> bytes:
    """First 16 bytes of sha256 over the canonical layout (docs/format.md, "Pixel checksum").

    ``pixels`` is one image, an (H, W) or (H, W, C) integer array, or a list
    of images: the checksum of an image entry with ``count > 1`` covers its
    images' layouts concatenated in order. ``bit_depth`` sets the sample size
    (1 byte up to 8 bits, 2 bytes above); without it, bool and uint8 arrays
    are 8-bit and uint16 arrays 16-bit.
    """
    images = pixels if isinstance(pixels, (list, tuple)) else [pixels]
    digest = hashlib.sha256()
    start = 0
    while start < len(images):  # runs of same-shape, same-dtype arrays are laid out in one go
        first = np.asarray(images[start])
        stop = start + 1
        while (stop < len(images) and isinstance(images[stop], np.ndarray)
               and images[stop].shape == first.shape and images[stop].dtype == first.dtype):
            stop += 1
        if stop - start == 1:
            digest.update(_canonical_bytes(first, bit_depth))
        elif first.dtype == np.uint8 and bit_depth in (None, 8):  # every value is in range: no checks
            digest.update(_canonical_uint8_run(images[start:stop]))
        else:
            digest.update(_canonical_run(np.stack(images[start:stop]), bit_depth))
        start = stop
    return digest.digest()[:CHECKSUM_SIZE]


def _canonical_uint8_run(images: list[np.ndarray]) -> bytes:
    """``_canonical_run`` of same-shape uint8 images (8-bit samples), copied once."""
    shape = images[0].shape
    if len(shape) not in (2, 3) or 0 in shape:
        raise ValueError(f"an image must be a non-empty (H, W) or (H, W, C) array, got shape {shape}")
    height, width, channels = shape[0], shape[1], shape[2] if len(shape) == 3 else 1
    out = np.empty((len(images), 13 + height * width * channels), dtype=np.uint8)
    out[:, :13] = np.frombuffer(struct.pack("<IIIB", height, width, channels, 1), dtype=np.uint8)
    np.stack(images, out=out[:, 13:].reshape((len(images),) + shape))
    return out.tobytes()


def _canonical_run(stack: np.ndarray, bit_depth: int | None) -> bytes:
    """The canonical layouts of the images ``stack[0], stack[1], ...``, concatenated."""
    one = _canonical_bytes(stack[0], bit_depth)  # validates the dtype, the shape and bit_depth
    prefix = np.frombuffer(one[:13], dtype=np.uint8)
    checked = _canonical_bytes(stack.reshape((-1,) + stack.shape[2:]), bit_depth)  # all of them in range
    body = np.frombuffer(checked, dtype=np.uint8)[13:].reshape(len(stack), -1)
    out = np.empty((len(stack), 13 + body.shape[1]), dtype=np.uint8)
    out[:, :13] = prefix
    out[:, 13:] = body
    return out.tobytes()


# -- validation (shared by write and read) ------------------------------------------
def _check_header(header: Header) -> None:
    _require(header.version in WEIGHTS_ID_SIZE, f"format version {header.version} is not one of 1..{FORMAT_VERSION}")
    _require(header.flags == 0, f"flags {header.flags:#x} are not defined in format version {header.version}")
    _require(
        len(header.writer) == 3 and all(0 <= v < 1 << 16 for v in header.writer),
        f"writer version {header.writer!r} must be three integers in 0..65535",
    )
    _require(
        isinstance(header.model, str) and _MODEL_NAME.fullmatch(header.model) is not None,
        f"model name {header.model!r} must be 1..64 characters of [a-z0-9._-]",
    )
    id_size = WEIGHTS_ID_SIZE[header.version]
    _require(len(header.model_sha256) == id_size, f"model sha256 must be {id_size} bytes in version {header.version}")
    _require(
        (header.model == MODEL_FREE) == (header.model_sha256 == bytes(id_size)),
        'model sha256 must be all zero exactly when the model is "none"',
    )
    for name in ("likelihood_precision", "posterior_precision", "latent_bits"):
        value = getattr(header, name)
        _require(1 <= value <= MAX_PRECISION, f"{name} {value} is outside 1..{MAX_PRECISION}")
    _require(
        header.latent_bits <= header.posterior_precision,
        f"latent_bits {header.latent_bits} exceeds posterior_precision {header.posterior_precision}",
    )
    _require(header.estimator in ESTIMATORS, f"estimator {header.estimator} is not one of {sorted(ESTIMATORS)}")
    _require(1 <= header.particles <= MAX_PARTICLES, f"particles {header.particles} is outside 1..{MAX_PARTICLES}")
    _require(
        (header.estimator == BB_ANS) == (header.particles == 1),
        f"estimator {ESTIMATORS[header.estimator]} does not go with {header.particles} particles",
    )
    _require(1 <= header.batch_size <= MAX_BATCH, f"batch size {header.batch_size} is outside 1..{MAX_BATCH}")


def _check_image_name(name: str) -> None:
    _require(isinstance(name, str), f"image name {name!r} is not a string")
    _require(len(name.encode("utf-8")) <= MAX_IMAGE_NAME, f"image name {name[:40]!r}... is over 255 bytes")
    _require(
        name not in (".", "..") and not any(c in "/\\" or ord(c) < 0x20 or ord(c) == 0x7F for c in name),
        f"image name {name!r} must be a file name without '/', '\\' or control characters",
    )


def _check_entry(entry: ImageEntry, model_free: bool) -> None:
    _require(entry.mode in MODE_IDS, f"mode {entry.mode!r} is not one of {sorted(MODE_IDS)}")
    _require(1 <= entry.count <= MAX_IMAGES, f"image count {entry.count} is outside 1..{MAX_IMAGES}")
    for side in ("height", "width"):
        value = getattr(entry, side)
        _require(1 <= value <= MAX_SIDE, f"image {side} {value} is outside 1..{MAX_SIDE}")
    _require(entry.coder in CODERS, f"coder {entry.coder} is not one of {sorted(CODERS)}")
    per_tile = entry.coder == CODER_PER_TILE
    _require(per_tile == (len(entry.tile_coders) > 0), "tile coders must be given exactly for a per-tile entry")
    _require(
        all(kind in TILE_CODERS for kind in set(entry.tile_coders)),
        f"a tile coder must be one of {TILE_CODERS}",
    )
    uses_vae = entry.coder == CODER_VAE or CODER_VAE in entry.tile_coders
    _require(not (model_free and uses_vae), 'a file with model "none" cannot use the VAE coder')
    if entry.mode == "P":
        _require(entry.palette_channels in (3, 4), f"palette channels {entry.palette_channels} is not 3 or 4")
        entries, rest = divmod(len(entry.palette), entry.palette_channels)
        _require(rest == 0 and 1 <= entries <= 256, "a palette must hold 1..256 whole entries")
    else:
        _require(entry.palette == b"" and entry.palette_channels == 0, f"mode {entry.mode} has no palette")
    _require(
        entry.png_bit_depth == 0 or entry.png_bit_depth in PNG_BIT_DEPTHS[entry.mode],
        f"a PNG of mode {entry.mode} cannot have bit depth {entry.png_bit_depth}",
    )
    if entry.transparency:
        _require(
            len(entry.transparency) == KEY_CHANNELS.get(entry.mode, -1)
            and all(0 <= v < (1 << entry.bit_depth) for v in entry.transparency),
            f"colour key {entry.transparency} does not fit mode {entry.mode}",
        )
    _require(len(entry.names) in (0, entry.count), f"{len(entry.names)} names given for {entry.count} images")
    for name in entry.names:
        _check_image_name(name)


def _check_totals(images: Sequence[ImageEntry], streams: Sequence[StreamEntry], checksums: Sequence[bytes]) -> None:
    total_images = sum(entry.count for entry in images)
    _require(total_images <= MAX_IMAGES, f"{total_images} images exceed the cap of {MAX_IMAGES}")
    total_pixels = sum(entry.pixels for entry in images)
    _require(total_pixels <= MAX_PIXELS, f"{total_pixels} pixels exceed the cap of {MAX_PIXELS}")
    _require(len(checksums) == len(images), f"{len(checksums)} checksums for {len(images)} image entries")
    _require(all(len(c) == CHECKSUM_SIZE for c in checksums), f"a checksum must be {CHECKSUM_SIZE} bytes")
    _require(len(streams) <= MAX_STREAMS, f"{len(streams)} streams exceed the cap of {MAX_STREAMS}")
    for stream in streams:
        _check_stream(stream)
    carried = sum(stream.image_count for stream in streams)
    _require(carried == total_images, f"the streams carry {carried} images, the image table lists {total_images}")


def _check_stream(stream: StreamEntry) -> None:
    _require(stream.image_count >= 1, "a stream must carry at least one image")
    _require(stream.word_count >= 2, f"a stream needs at least 2 words (its state), has {stream.word_count}")
    _require(
        0 <= stream.fillers <= stream.word_count - 2,
        f"filler count {stream.fillers} does not fit a stream of {stream.word_count} words",
    )


# -- writing -------------------------------------------------------------------
def _varint(value: int) -> bytes:
    """``value`` as an unsigned LEB128 number: 7 bits a byte, low bits first, in its shortest form."""
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _number(value: int, fmt: str, compact: bool) -> bytes:
    """A count or size: a varint in version 2, the fixed-width ``fmt`` ("H", "I", "Q") in version 1."""
    return _varint(value) if compact else struct.pack("<" + fmt, value)


def _pack_model(header: Header) -> bytes:
    name = header.model.encode("ascii")
    return _U8.pack(len(name)) + name + bytes(header.model_sha256)


def _pack_codec(header: Header, compact: bool) -> bytes:
    head = bytes([header.likelihood_precision, header.posterior_precision, header.latent_bits, header.estimator])
    if compact:
        return head + _varint(header.particles) + _varint(header.batch_size)
    return head + struct.pack("<HHI", header.particles, 0, header.batch_size)


def _pack_entry(entry: ImageEntry, compact: bool) -> bytes:
    mode_id = MODE_IDS[entry.mode]
    _, channels, bit_depth = MODES[mode_id]
    has_png = bool(entry.png_bit_depth or entry.transparency)
    flags = (_ENTRY_HAS_NAMES if entry.names else 0) | (_ENTRY_HAS_PNG if has_png else 0)
    parts = [_number(entry.count, "I", compact), _number(entry.height, "I", compact),
             _number(entry.width, "I", compact), bytes([mode_id])]
    if not compact:
        parts.append(bytes([channels, bit_depth]))  # version 1 repeats what the mode says
    parts.append(bytes([entry.coder, flags]))
    if entry.mode == "P":
        parts.append(_number(len(entry.palette) // entry.palette_channels, "H", compact))
        parts.append(bytes([entry.palette_channels]) + bytes(entry.palette))
    if entry.coder == CODER_PER_TILE:
        parts.append(_number(len(entry.tile_coders), "I", compact) + bytes(entry.tile_coders))
    for name in entry.names:
        encoded = name.encode("utf-8")
        parts.append(_U8.pack(len(encoded)) + encoded)
    if has_png:
        key = tuple(entry.transparency)
        parts.append(_U8.pack(entry.png_bit_depth) + _U8.pack(len(key)) + struct.pack(f"<{len(key)}H", *key))
    return b"".join(parts)


def _pack_header_body(archive: Archive) -> bytes:
    compact = archive.header.version >= 2
    parts = [_pack_model(archive.header), _pack_codec(archive.header, compact),
             _number(len(archive.images), "I", compact)]
    parts += [_pack_entry(entry, compact) for entry in archive.images]
    parts += [bytes(checksum) for checksum in archive.checksums]
    parts.append(_number(len(archive.streams), "I", compact))
    for s in (x.entry for x in archive.streams):
        parts += [_number(s.image_count, "I", compact), _number(s.word_count, "Q", compact),
                  _number(s.fillers, "I", compact)]
    return b"".join(parts)


def _pack_preamble(header: Header, body_size: int, payload_size: int) -> bytes:
    """The preamble without its CRC, for the header and file sizes that follow from it."""
    if header.version == 1:
        header_size = PREAMBLE_SIZE + body_size + 4
        file_size = header_size + payload_size + 4
        return _PREAMBLE.pack(MAGIC, 1, header.flags, *header.writer, 0, file_size, header_size)
    lead = _LEAD.pack(MAGIC, header.version, header.flags) + b"".join(_varint(v) for v in header.writer)
    sizes = 2  # bytes of the two size varints: grow it until the sizes fit in it
    while True:
        header_size = len(lead) + sizes + 4 + body_size + 4
        file_size = header_size + payload_size + 4
        tail = _varint(file_size) + _varint(header_size)
        if len(tail) == sizes:
            return lead + tail
        sizes = len(tail)


def _stream_words(stream: Stream) -> np.ndarray:
    words = np.asarray(stream.words)
    _require(words.ndim == 1 and words.dtype.kind in "iu", "stream words must be a 1-d integer array")
    _require(
        words.size == 0 or (int(words.min()) >= 0 and int(words.max()) <= 0xFFFFFFFF),
        "stream words must fit in 32 bits",
    )
    _require(words.size < 2 or int(words[-1]) != 0, "a stream's final state must be at least 2**32 (last word 0)")
    return words.astype("<u4")


def write(archive: Archive) -> bytes:
    """The .vz bytes of ``archive`` in its header's format version; raises ValueError for an invalid archive."""
    try:
        _check_header(archive.header)
        model_free = archive.header.model == MODEL_FREE
        for entry in archive.images:
            _check_entry(entry, model_free)
        payload = [_stream_words(stream).tobytes() for stream in archive.streams]
        _check_totals(archive.images, [s.entry for s in archive.streams], archive.checksums)
    except _Invalid as error:
        raise ValueError(f"cannot write this archive: {error}") from None
    body = _pack_header_body(archive)
    preamble = _pack_preamble(archive.header, len(body), sum(len(p) for p in payload))
    head = preamble + _U32.pack(zlib.crc32(preamble)) + body
    head += _U32.pack(zlib.crc32(head))
    data = b"".join([head, *payload])
    return data + _U32.pack(zlib.crc32(data))


# -- reading -----------------------------------------------------------------
class _Cursor:
    """Reads fields from ``data[pos:end]``, checking every length against ``end`` first.

    ``compact`` (format version 2) reads counts and sizes as varints.
    """

    def __init__(self, data, pos: int, end: int, compact: bool = False):
        self.data, self.pos, self.end, self.compact = data, pos, end, compact

    def remaining(self) -> int:
        return self.end - self.pos

    def _need(self, size: int) -> None:
        if not 0 <= size <= self.remaining():
            raise _Short("a header field runs past the end of the header")

    def unpack(self, record: struct.Struct) -> tuple:
        self._need(record.size)
        values = record.unpack_from(self.data, self.pos)
        self.pos += record.size
        return values

    def take(self, size: int) -> bytes:
        self._need(size)
        chunk = bytes(self.data[self.pos : self.pos + size])
        self.pos += size
        return chunk

    def byte(self) -> int:
        self._need(1)
        self.pos += 1
        return self.data[self.pos - 1]

    def varint(self) -> int:
        value = 0
        for i in range(_MAX_VARINT):
            byte = self.byte()
            value |= (byte & 0x7F) << (7 * i)
            if byte < 0x80:
                _require(byte or i == 0, "a number is not written in its shortest form")
                _require(value < 1 << 64, "a number is 2**64 or more")
                return value
        raise _Invalid(f"a number runs over {_MAX_VARINT} bytes")

    def number(self, fmt: str) -> int:
        """A count or size: a varint in version 2, the fixed-width ``fmt`` in version 1."""
        return self.varint() if self.compact else self.unpack(struct.Struct("<" + fmt))[0]


def _version_text(version: Sequence[int]) -> str:
    return ".".join(str(v) for v in version)


def _check_magic(data) -> None:
    head = bytes(data[: len(MAGIC)])
    if head == MAGIC:
        return
    if len(head) < len(MAGIC) and MAGIC.startswith(head):
        raise TruncatedError(f"the file ends after {len(head)} bytes, inside its signature: re-copy the whole file")
    if head.startswith(MAGIC[:7]):
        raise CorruptError(
            "the .vz signature is damaged (line endings or high bits changed by a text-mode transfer): "
            "copy the file again in binary mode"
        )
    raise CorruptError("not a .vz file (no vaezip signature at its start)")


@dataclass(frozen=True)
class _Preamble:
    version: int
    writer: tuple[int, int, int]
    file_size: int
    header_size: int
    size: int  # bytes of the preamble, its CRC included: the header's records start here


def _read_preamble(data) -> _Preamble:
    """Check signature, preamble CRC, version and flags (docs/format.md, "Preamble")."""
    _check_magic(data)
    if len(data) < _LEAD.size:
        raise TruncatedError(f"the file ends after {len(data)} bytes, inside its preamble")
    (version,) = struct.unpack_from("<H", data, len(MAGIC))
    if version == 0:
        raise CorruptError("format version 0 does not exist: the file is corrupt or was not written by vaezip")
    if version == 1:
        preamble = _read_preamble_v1(data)
    else:  # the layout of version 2, which every later version keeps
        cur = _Cursor(data, _LEAD.size - 1, len(data))
        try:
            flags = cur.byte()
            writer = (cur.varint(), cur.varint(), cur.varint())
            file_size, header_size = cur.varint(), cur.varint()
            (stored_crc,) = cur.unpack(_U32)
        except _Short:
            raise TruncatedError(f"the file ends after {len(data)} bytes, inside its preamble") from None
        except _Invalid as error:
            raise CorruptError(f"the preamble is corrupt ({error}): restore the file from a good copy") from None
        if zlib.crc32(data[: cur.pos - 4]) != stored_crc:
            raise CorruptError("the preamble CRC does not match: the file is corrupt; restore it from a good copy")
        preamble = _Preamble(version, writer, file_size, header_size, cur.pos)
        _check_version(version, flags, writer)
    # the smallest header: a one-letter model name, the codec, no images, no streams, the header CRC
    smallest = preamble.size + 2 + WEIGHTS_ID_SIZE[version] + (12 + 4 + 4 if version == 1 else 6 + 1 + 1) + 4
    if not smallest <= preamble.header_size <= preamble.file_size - 4:
        raise CorruptError(
            f"header size {preamble.header_size} does not fit file size {preamble.file_size}: the file is corrupt "
            "or was not written by vaezip"
        )
    return preamble


def _check_version(version: int, flags: int, writer: tuple[int, int, int]) -> None:
    if version > FORMAT_VERSION or flags:
        what = f"format version {version}" if version > FORMAT_VERSION else f"feature flags {flags:#06x}"
        raise VersionError(
            f"this .vz file uses {what} (written by vaezip {_version_text(writer)}); vaezip {__version__} "
            f"reads format versions 1..{FORMAT_VERSION} only: upgrade to vaezip >= {_version_text(writer)}"
        )


def _read_preamble_v1(data) -> _Preamble:
    if len(data) < PREAMBLE_SIZE:
        raise TruncatedError(f"the file ends after {len(data)} bytes, inside its {PREAMBLE_SIZE}-byte preamble")
    fields = _PREAMBLE.unpack_from(data, 0)
    (stored_crc,) = _U32.unpack_from(data, _PREAMBLE.size)
    if zlib.crc32(data[: _PREAMBLE.size]) != stored_crc:
        raise CorruptError("the preamble CRC does not match: the file is corrupt; restore it from a good copy")
    _, version, flags, major, minor, patch, _, file_size, header_size = fields
    writer = (major, minor, patch)
    _check_version(version, flags, writer)
    return _Preamble(version, writer, file_size, header_size, PREAMBLE_SIZE)


def _read_header_fields(cur: _Cursor, preamble: _Preamble) -> Header:
    (name_len,) = cur.unpack(_U8)
    _require(1 <= name_len <= MAX_MODEL_NAME, f"model name length {name_len} is outside 1..{MAX_MODEL_NAME}")
    raw_name = cur.take(name_len)
    _require(_MODEL_NAME.fullmatch(raw_name.decode("latin-1")) is not None, "model name is not [a-z0-9._-]")
    sha = cur.take(WEIGHTS_ID_SIZE[preamble.version])
    lik, post, latent, estimator = cur.take(4)
    particles = cur.number("H")
    if not cur.compact:
        _require(cur.number("H") == 0, "a reserved codec field is not zero")
    batch = cur.number("I")
    header = Header(raw_name.decode("ascii"), sha, lik, post, latent, estimator, particles, batch, 0,
                    preamble.version, preamble.writer)
    _check_header(header)
    return header


def _read_entry(cur: _Cursor, model_free: bool) -> ImageEntry:
    count, height, width = cur.number("I"), cur.number("I"), cur.number("I")
    mode_id = cur.byte()
    _require(mode_id in MODES, f"mode {mode_id} is not one of 0..{len(MODES) - 1}")
    mode, want_channels, want_depth = MODES[mode_id]
    if not cur.compact:
        channels, bit_depth = cur.byte(), cur.byte()
        _require(
            (channels, bit_depth) == (want_channels, want_depth),
            f"mode {mode} has {want_channels} channels of {want_depth} bits, not {channels} of {bit_depth}",
        )
    coder, flags = cur.byte(), cur.byte()
    _require(flags & ~(_ENTRY_HAS_NAMES | _ENTRY_HAS_PNG) == 0, f"image entry flags {flags:#x} are not defined")
    _require(1 <= count <= MAX_IMAGES, f"image count {count} is outside 1..{MAX_IMAGES}")
    palette, palette_channels = b"", 0
    if mode == "P":
        entries, palette_channels = cur.number("H"), cur.byte()
        _require(1 <= entries <= 256 and palette_channels in (3, 4), "palette size or channels out of range")
        palette = cur.take(entries * palette_channels)
    tile_coders = b""
    if coder == CODER_PER_TILE:
        tiles = cur.number("I")
        _require(1 <= tiles <= cur.remaining(), f"{tiles} tile coders do not fit in the header")
        tile_coders = cur.take(tiles)
    names: tuple[str, ...] = ()
    if flags & _ENTRY_HAS_NAMES:
        _require(count <= cur.remaining(), f"{count} image names do not fit in the header")
        names = tuple(_read_name(cur) for _ in range(count))
    png_bit_depth, key = 0, ()
    if flags & _ENTRY_HAS_PNG:
        png_bit_depth, key_count = cur.byte(), cur.byte()
        _require(key_count in (0, 1, 3), f"a colour key has 0, 1 or 3 samples, not {key_count}")
        key = struct.unpack(f"<{key_count}H", cur.take(2 * key_count))
        _require(png_bit_depth or key, "PNG extras flagged but empty")
    entry = ImageEntry(height, width, mode, count, coder, tile_coders, palette, palette_channels, names,
                       png_bit_depth, key)
    _check_entry(entry, model_free)
    return entry


def _read_name(cur: _Cursor) -> str:
    raw = cur.take(cur.byte())
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Invalid("an image name is not valid UTF-8") from None


def _read_images(cur: _Cursor, model_free: bool) -> list[ImageEntry]:
    count = cur.number("I")
    _require(count <= MAX_IMAGES, f"{count} image entries exceed the cap of {MAX_IMAGES}")
    smallest = _MIN_ENTRY_V2 if cur.compact else _ENTRY.size
    _require(count * (smallest + CHECKSUM_SIZE) <= cur.remaining(), f"{count} image entries do not fit")
    images, total_images, total_pixels = [], 0, 0
    for _ in range(count):
        entry = _read_entry(cur, model_free)
        total_images += entry.count
        total_pixels += entry.pixels
        _require(total_images <= MAX_IMAGES, f"more than {MAX_IMAGES} images declared")
        _require(total_pixels <= MAX_PIXELS, f"more than {MAX_PIXELS} pixels declared")
        images.append(entry)
    return images


def _read_streams(cur: _Cursor) -> list[StreamEntry]:
    count = cur.number("I")
    _require(count <= MAX_STREAMS, f"{count} streams exceed the cap of {MAX_STREAMS}")
    smallest = _MIN_STREAM_V2 if cur.compact else _STREAM.size
    _require(count * smallest <= cur.remaining(), f"{count} stream entries do not fit in the header")
    streams = [StreamEntry(cur.number("I"), cur.number("Q"), cur.number("I")) for _ in range(count)]
    for stream in streams:
        _check_stream(stream)
    return streams


def _parse_header(data, preamble: _Preamble) -> Contents:
    """Parse the header's records, after the preamble (CRC already checked); raises _Invalid."""
    cur = _Cursor(data, preamble.size, preamble.header_size - 4, compact=preamble.version >= 2)
    header = _read_header_fields(cur, preamble)
    images = _read_images(cur, header.model == MODEL_FREE)
    checksums = [cur.take(CHECKSUM_SIZE) for _ in images]
    streams = _read_streams(cur)
    _require(cur.remaining() == 0, f"{cur.remaining()} unexplained bytes at the end of the header")
    _check_totals(images, streams, checksums)
    payload = preamble.file_size - preamble.header_size - 4
    words = sum(stream.word_count for stream in streams)
    _require(4 * words == payload, f"the stream table declares {4 * words} payload bytes, the file has {payload}")
    return Contents(header, images, streams, checksums, preamble.header_size, preamble.file_size)


def _corrupt(error: _Invalid) -> CorruptError:
    return CorruptError(f"{error}: the file is corrupt or was not written by vaezip")


def read_header(data) -> Contents:
    """Header, image table, checksums and stream table, without reading the payload.

    ``data`` may be the whole file or any prefix that holds the header
    (``header_size`` bytes). Checks the preamble and header CRCs, not the
    payload's; ``read`` checks everything.
    """
    data = memoryview(data).cast("B")
    preamble = _read_preamble(data)
    header_size = preamble.header_size
    if len(data) < header_size:
        raise TruncatedError(f"the file ends after {len(data)} bytes, inside its {header_size}-byte header")
    (stored_crc,) = _U32.unpack_from(data, header_size - 4)
    if zlib.crc32(data[: header_size - 4]) != stored_crc:
        raise CorruptError("the header CRC does not match: the file is corrupt; restore it from a good copy")
    try:
        return _parse_header(data, preamble)
    except _Invalid as error:
        raise _corrupt(error) from None


def read(data) -> Archive:
    """The archive in .vz bytes ``data`` (docs/format.md), every field and CRC checked first."""
    data = memoryview(data).cast("B")
    preamble = _read_preamble(data)
    file_size, header_size = preamble.file_size, preamble.header_size
    if len(data) < file_size:
        raise TruncatedError(
            f"the file is truncated: {len(data)} of its {file_size} bytes are present; re-copy the whole file"
        )
    if len(data) > file_size:
        raise CorruptError(f"{len(data) - file_size} unexpected bytes follow the end of the .vz data")
    (stored_crc,) = _U32.unpack_from(data, file_size - 4)
    if zlib.crc32(data[: file_size - 4]) != stored_crc:
        raise CorruptError("the file CRC does not match: the file is corrupt; restore it from a good copy")
    contents = read_header(data)
    streams, offset = [], header_size
    for entry in contents.streams:
        words = np.frombuffer(data, dtype="<u4", count=entry.word_count, offset=offset).astype(np.uint32)
        offset += 4 * entry.word_count
        if words[-1] == 0:
            raise _corrupt(_Invalid("a stream's final state is below 2**32"))
        streams.append(Stream(words, entry.fillers, entry.image_count))
    return Archive(contents.header, contents.images, streams, contents.checksums)
