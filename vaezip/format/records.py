"""The records of a .vz file and the constants of its fields (docs/format.md).

``Header`` (model and codec parameters), ``ImageEntry`` (a run of images of one
shape and mode), ``StreamEntry`` and ``Stream`` (a coded stream and its row of
the stream table), ``Archive`` (a whole file) and ``Contents`` (a file without
its payload). The enumerations (estimators, coders, modes) and the caps every
reader enforces live here too, shared by every format version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from vaezip import __version__

FORMAT_VERSION = 3  # what ``write`` writes by default; ``read`` reads every version up to it
MAGIC = b"VAEZIP\x00\x89\r\n\x1a\n"  # docs/format.md, "Preamble"
# Bytes of the weights' sha256 that a header stores: versions 2 and 3 keep the first 16
# (128 bits, the strength of the pixel checksum) instead of all 32. Version 3 names the
# model's integer network file (.vzn), versions 1 and 2 its float weights file (.pt).
WEIGHTS_ID_SIZE = {1: 32, 2: 16, 3: 16}
CHECKSUM_SIZE = 16  # bytes of sha256 kept per image entry
SHORT_CHECKSUM_SIZE = 8  # ... and in a one-image file of version 3 (docs/format.md, "One-image files")
COMPACT_MAGIC = b"\x89VZ\n"  # the signature of a one-image file of version 3

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

MODEL_NAME = re.compile(r"[a-z0-9._-]{1,64}")
ENTRY_HAS_NAMES = 0x01
ENTRY_HAS_PNG = 0x02  # PNG extras follow: original IHDR bit depth and colour key
# PNG IHDR bit depths each mode may have been read from (docs/format.md, "PNG extras")
PNG_BIT_DEPTHS = {
    "1": (1,), "L": (2, 4, 8), "LA": (8,), "RGB": (8,), "RGBA": (8,), "P": (1, 2, 4, 8),
    "I;16": (16,), "LA;16": (16,), "RGB;16": (16,), "RGBA;16": (16,),
}
KEY_CHANNELS = {"1": 1, "L": 1, "I;16": 1, "RGB": 3, "RGB;16": 3}  # modes that may have a colour key


def _this_version() -> tuple[int, int, int]:
    parts = [int(p) for p in re.findall(r"\d+", __version__)[:3]]
    return tuple(parts + [0] * (3 - len(parts)))  # type: ignore[return-value]


@dataclass(frozen=True)
class Header:
    """Model and codec parameters (docs/format.md, "Model" and "Codec parameters").

    ``model_sha256`` identifies the weights file (version 3: the integer
    network's ``.vzn``; versions 1 and 2: the float weights): the first
    ``WEIGHTS_ID_SIZE[version]`` bytes of its sha256 (16 in versions 2 and 3,
    all 32 in version 1; ``weights_id`` cuts them); all zero exactly when
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


@dataclass(frozen=True)
class Preamble:
    """What a version's preamble says (docs/format.md, "Preamble")."""

    version: int
    writer: tuple[int, int, int]
    file_size: int
    header_size: int
    size: int  # bytes of the preamble, its CRC included: the header's records start here
