"""The Picture: one image's samples in one of the container's modes, checked on construction.

``from_array`` and ``from_batch`` make Pictures from numpy arrays (a mode is
inferred from the dtype and channel count when none is given).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vaezip.format import MAX_PIXELS, MAX_SIDE, MODE_IDS, MODES, pixel_checksum
from vaezip.images.png import COLOUR_TYPES, PNG_MODES


class ImageError(ValueError):
    """An input that is not a PNG vaezip can read, or a Picture that cannot be written.

    The message is one line and says what is wrong.
    """


@dataclass(eq=False)
class Picture:
    """One image: samples as stored, in one of the container's modes.

    ``pixels`` is (H, W, C), uint8 for modes of bit depth 1 or 8 (mode ``1``:
    0 and 1; mode ``P``: palette indices), uint16 for the 16-bit modes.
    ``palette`` (mode ``P`` only) is (entries, 3) or (entries, 4) uint8, RGB or
    RGBA. ``name`` is a bare file name for the archive. ``png_bit_depth`` is
    the bit depth of the PNG the picture was read from (None: not from a PNG;
    ``write_png`` then picks one). ``transparency`` is a PNG colour key, one
    value (grey modes) or three (RGB modes) on the pixels' scale, or None.

    Construction checks everything and makes ``pixels`` (H, W, C); an invalid
    Picture raises :class:`ImageError`.
    """

    pixels: np.ndarray
    mode: str
    palette: np.ndarray | None = None
    name: str | None = None
    png_bit_depth: int | None = None
    transparency: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODE_IDS:
            raise ImageError(f"unknown mode {self.mode!r}; the modes are {', '.join(MODE_IDS)}")
        _, channels, depth = MODES[MODE_IDS[self.mode]]
        pixels = np.asarray(self.pixels)
        if pixels.ndim == 2:
            pixels = pixels[:, :, None]
        if pixels.ndim != 3 or pixels.shape[2] != channels:
            raise ImageError(f"mode {self.mode} needs (H, W, {channels}) pixels, got shape {np.shape(self.pixels)}")
        height, width = pixels.shape[:2]
        check_size(width, height)
        dtype = np.uint16 if depth == 16 else np.uint8
        if pixels.dtype != dtype:
            raise ImageError(f"mode {self.mode} needs {np.dtype(dtype).name} pixels, got {pixels.dtype}")
        self.pixels = pixels
        if self.mode == "1" and pixels.max() > 1:
            raise ImageError("mode 1 samples must be 0 or 1")
        if self.mode == "P":
            if self.palette is None:
                raise ImageError("mode P needs a palette")
            palette = np.asarray(self.palette)
            if palette.dtype != np.uint8 or palette.ndim != 2 or palette.shape[1] not in (3, 4):
                raise ImageError(f"a palette must be (entries, 3 or 4) uint8, got {palette.dtype} {palette.shape}")
            if not 1 <= palette.shape[0] <= 256:
                raise ImageError(f"a palette must have 1..256 entries, got {palette.shape[0]}")
            if int(pixels.max()) >= palette.shape[0]:
                raise ImageError(f"palette index {int(pixels.max())} is outside the palette of {palette.shape[0]} entries")
            self.palette = palette
        elif self.palette is not None:
            raise ImageError(f"mode {self.mode} has no palette")
        if self.name is not None and (not isinstance(self.name, str) or "/" in self.name or "\\" in self.name):
            raise ImageError(f"an image name must be a bare file name, got {self.name!r}")
        if self.png_bit_depth is not None and PNG_MODES.get((COLOUR_TYPES[self.mode], self.png_bit_depth)) != self.mode:
            raise ImageError(f"a PNG of mode {self.mode} cannot have bit depth {self.png_bit_depth}")
        if self.transparency is not None:
            key = tuple(int(v) for v in self.transparency)
            want = {0: 1, 2: 3}.get(COLOUR_TYPES[self.mode])
            if want is None or len(key) != want or not all(0 <= v < (1 << depth) for v in key):
                raise ImageError(f"transparency {self.transparency!r} is not a colour key of mode {self.mode}")
            self.transparency = key

    @classmethod
    def trusted(cls, pixels: np.ndarray, mode: str, name: str | None = None, png_bit_depth: int | None = None,
                transparency: tuple[int, ...] | None = None) -> "Picture":
        """A picture of a mode without a palette, built without the checks.

        For callers that guarantee what construction would check: ``pixels``
        (H, W, C) of the mode's dtype and range, and the other fields valid
        (the decoder, whose VAE streams pop only the model's pixel values and
        whose container validated the rest).
        """
        picture = object.__new__(cls)
        picture.pixels, picture.mode, picture.palette, picture.name = pixels, mode, None, name
        picture.png_bit_depth, picture.transparency = png_bit_depth, transparency
        return picture

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def channels(self) -> int:
        return int(self.pixels.shape[2])

    @property
    def bit_depth(self) -> int:
        """1, 8 or 16: the bit depth of the mode (palette indices: 8)."""
        return MODES[MODE_IDS[self.mode]][2]

    @property
    def palette_bytes(self) -> bytes:
        """The palette as the container stores it: entry by entry, R G B [A] (b"" without one)."""
        return b"" if self.palette is None else self.palette.tobytes()

    @property
    def palette_channels(self) -> int:
        """3 or 4 for mode P, else 0 (the container's ``palette_channels``)."""
        return 0 if self.palette is None else int(self.palette.shape[1])

    def planes(self) -> np.ndarray:
        """The samples as (C, H, W), same dtype (a view, not a copy)."""
        return np.moveaxis(self.pixels, 2, 0)

    def checksum(self) -> bytes:
        """``vaezip.format.pixel_checksum`` of the samples."""
        return pixel_checksum(self.pixels, self.bit_depth)

    def __eq__(self, other: object) -> bool:
        """Same mode, size, samples, palette and colour key (name and PNG depth aside)."""
        if not isinstance(other, Picture):
            return NotImplemented
        if self.mode != other.mode or self.pixels.shape != other.pixels.shape:
            return False
        if (self.palette is None) != (other.palette is None) or self.transparency != other.transparency:
            return False
        if self.palette is not None and (
            self.palette.shape != other.palette.shape or not np.array_equal(self.palette, other.palette)
        ):
            return False
        return bool(np.array_equal(self.pixels, other.pixels))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        extra = f", palette={self.palette.shape[0]}x{self.palette.shape[1]}" if self.palette is not None else ""
        depth = f", png_bit_depth={self.png_bit_depth}" if self.png_bit_depth is not None else ""
        name = f", name={self.name!r}" if self.name is not None else ""
        return f"Picture({self.width}x{self.height}, mode={self.mode!r}{extra}{depth}{name})"


def check_size(width: int, height: int) -> None:
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise ImageError(f"image size {width}x{height} is outside 1..{MAX_SIDE} on a side")
    if width * height > MAX_PIXELS:
        raise ImageError(f"image size {width}x{height} has more than 2**31 pixels")


# -- arrays --------------------------------------------------------------------------
_MODES_BY_CHANNELS = {
    (8, 1): "L",
    (8, 2): "LA",
    (8, 3): "RGB",
    (8, 4): "RGBA",
    (16, 1): "I;16",
    (16, 2): "LA;16",
    (16, 3): "RGB;16",
    (16, 4): "RGBA;16",
}


def from_array(array, mode: str | None = None, palette=None, name: str | None = None) -> Picture:
    """One Picture from an (H, W) or (H, W, C) array.

    Without ``mode``: bool -> ``1``; uint8 -> ``L``, ``LA``, ``RGB``, ``RGBA``
    by channel count; uint16 -> ``I;16``, ``LA;16``, ``RGB;16``, ``RGBA;16``.
    With ``mode``, any integer array whose values fit the mode is accepted
    (mode ``1``: 0 and 1 only, or bool; mode ``P`` needs ``palette``).
    """
    arr = np.asarray(array)
    if arr.ndim not in (2, 3):
        raise ImageError(f"an image array must be (H, W) or (H, W, C), got shape {arr.shape}")
    if mode is None:
        if arr.dtype == np.bool_:
            mode = "1"
        elif arr.dtype in (np.uint8, np.uint16):
            channels = 1 if arr.ndim == 2 else arr.shape[2]
            mode = _MODES_BY_CHANNELS.get((arr.dtype.itemsize * 8, channels))
            if mode is None:
                raise ImageError(f"no mode has {channels} channels")
        else:
            raise ImageError(f"pass a mode for an array of dtype {arr.dtype} (uint8, uint16 and bool need none)")
    if mode not in MODE_IDS:
        raise ImageError(f"unknown mode {mode!r}; the modes are {', '.join(MODE_IDS)}")
    depth = MODES[MODE_IDS[mode]][2]
    if arr.dtype.kind not in "biu":
        raise ImageError(f"image samples must be integers, got dtype {arr.dtype}")
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= (1 << depth)):
        raise ImageError(f"samples of mode {mode} must lie in 0..{(1 << depth) - 1}")
    arr = arr.astype(np.uint16 if depth == 16 else np.uint8, copy=False)
    if palette is not None:
        palette = np.asarray(palette)
        if palette.dtype.kind not in "iu" or palette.size == 0 or palette.min() < 0 or palette.max() > 255:
            raise ImageError("palette values must be integers in 0..255")
        palette = palette.astype(np.uint8)
    return Picture(np.ascontiguousarray(arr), mode, palette, name)


def from_batch(array, mode: str | None = None, palette=None) -> list[Picture]:
    """One Picture per image of an (N, H, W) or (N, H, W, C) array (a data set)."""
    arr = np.asarray(array)
    if arr.ndim not in (3, 4):
        raise ImageError(f"a batch must be (N, H, W) or (N, H, W, C), got shape {arr.shape}")
    return [from_array(image, mode, palette) for image in arr]
