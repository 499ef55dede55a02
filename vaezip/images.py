"""Exact PNG in, exact PNG out: the pixels vaezip compresses and writes back.

``read_png`` turns a PNG file into a :class:`Picture` (samples as stored, the
mode of docs/format.md, the palette); ``write_png`` writes a Picture to a PNG
that ``read_png`` reads back to an equal Picture. Decisions (docs/format.md,
"Image table", has the modes):

* **PNG only.** Other formats are refused with a one-line :class:`ImageError`
  that names the format (JPEG is lossy at the source; BMP, GIF, TIFF, WebP
  and PNM are refused rather than silently turned into PNG on decompression).
* **Modes.** Grey 1-bit -> ``1`` (samples 0 and 1); grey 2/4/8-bit -> ``L``;
  grey 16-bit -> ``I;16``; grey+alpha -> ``LA`` / ``LA;16``; truecolour ->
  ``RGB`` / ``RGB;16``; truecolour+alpha -> ``RGBA`` / ``RGBA;16``; palette
  (1/2/4/8-bit) -> ``P`` with the palette indices as samples and the palette
  as an (entries, 3) array, or (entries, 4) when the file has a tRNS chunk
  (its alpha values, padded with 255 as PNG says).
* **Bit depth.** "Bit depth equal" means the bit depth of the *mode* (1, 8
  or 16, what the container stores). The PNG header's bit depth is kept as
  well, in ``Picture.png_bit_depth``, and ``write_png`` writes it back when it
  is set: so a 2-bit grey or 4-bit palette file comes back with the same IHDR.
  2- and 4-bit grey samples are held scaled to 0..255 (value * 85 or * 17, the
  PNG rule for reading them as 8-bit), so mode ``L`` always means 8-bit grey.
  Without ``png_bit_depth`` (a Picture from an array or from a .vz file),
  ``write_png`` writes grey ``L`` at 8 bits and a palette at the smallest
  depth its entry count allows (1, 2, 4 or 8 bits: what libpng-based tools
  and Pillow do).
* **Colour-key transparency** (tRNS in a grey or truecolour file) is kept in
  ``Picture.transparency`` (samples on the Picture's scale) and written back.
  Ancillary chunks (gamma, colour profile, text, physical size, time) are not
  kept, and files are written without interlacing: vaezip is lossless for
  pixels, not for metadata or the order of the bytes. A tRNS chunk that PNG
  does not allow where it is (in an image with alpha, after IDAT, longer than
  the palette, of the wrong length) is ignored, as libpng ignores it.
* **Libraries.** The chunk structure (IHDR, PLTE, tRNS, acTL, IEND, every
  critical chunk's CRC) is parsed here before any pixel is decoded, so sizes
  and animation are refused before a byte is allocated for pixels. Pillow
  decodes every kind of PNG whose samples it keeps exactly (all but 16-bit
  grey+alpha and 16-bit colour, which Pillow reduces to 8 bits); those three
  are decoded here (zlib, and a Numba loop for the row filters). Writing is
  always done here (numpy filters and zlib): Pillow cannot write a palette of
  any length at any depth, 16-bit colour, or 2/4-bit grey.

Importing this module is cheap: numba is imported only to decode a 16-bit
colour or grey+alpha PNG.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Union

import numpy as np

from vaezip.container import MAX_PIXELS, MAX_SIDE, MODE_IDS, MODES, pixel_checksum

__all__ = [
    "ImageError",
    "Picture",
    "read_png",
    "write_png",
    "from_array",
    "from_batch",
    "PNG_SIGNATURE",
]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

PathOrFile = Union[str, "os.PathLike[str]", BinaryIO]

# (colour type, bit depth) -> mode; the PNG specification's valid combinations
_PNG_MODES = {
    (0, 1): "1",
    (0, 2): "L",
    (0, 4): "L",
    (0, 8): "L",
    (0, 16): "I;16",
    (2, 8): "RGB",
    (2, 16): "RGB;16",
    (3, 1): "P",
    (3, 2): "P",
    (3, 4): "P",
    (3, 8): "P",
    (4, 8): "LA",
    (4, 16): "LA;16",
    (6, 8): "RGBA",
    (6, 16): "RGBA;16",
}
# mode -> PNG colour type
_COLOUR_TYPES = {"1": 0, "L": 0, "I;16": 0, "RGB": 2, "RGB;16": 2, "P": 3, "LA": 4, "LA;16": 4, "RGBA": 6, "RGBA;16": 6}
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# what Pillow decodes exactly: everything but these
_DECODED_HERE = ("LA;16", "RGB;16", "RGBA;16")

# magic numbers of formats refused by name
_OTHER_FORMATS = (
    (b"\xff\xd8\xff", "a JPEG file (lossy at the source)"),
    (b"GIF87a", "a GIF file"),
    (b"GIF89a", "a GIF file"),
    (b"BM", "a BMP file"),
    (b"II*\x00", "a TIFF file"),
    (b"MM\x00*", "a TIFF file"),
    (b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 file"),
    (b"\xff\x0a", "a JPEG XL file"),
    (b"\x00\x00\x00\x0cJXL ", "a JPEG XL file"),
    (b"qoif", "a QOI file"),
)

_IDAT_CHUNK = 1 << 20  # bytes of compressed data per written IDAT chunk
_FILTER_BLOCK = 1 << 22  # bytes of raw rows filtered at once when writing
_ZLIB_LEVEL = 6  # Pillow's and libpng's default, for images up to _BIG_IMAGE raw bytes
_ZLIB_LEVEL_BIG = 3  # above: 2.5x faster, about 2 % larger (4000x3000 RGB in ~2 s, not ~6)
_BIG_IMAGE = 1 << 23


class ImageError(ValueError):
    """An input that is not a PNG vaezip can read, or a Picture that cannot be written.

    The message is one line and says what is wrong.
    """


# -- the picture -------------------------------------------------------------------
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
        _check_size(width, height)
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
        if self.png_bit_depth is not None and _PNG_MODES.get((_COLOUR_TYPES[self.mode], self.png_bit_depth)) != self.mode:
            raise ImageError(f"a PNG of mode {self.mode} cannot have bit depth {self.png_bit_depth}")
        if self.transparency is not None:
            key = tuple(int(v) for v in self.transparency)
            want = {0: 1, 2: 3}.get(_COLOUR_TYPES[self.mode])
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
        """``container.pixel_checksum`` of the samples."""
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


def _check_size(width: int, height: int) -> None:
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


# -- reading ---------------------------------------------------------------------------
@dataclass
class _Header:
    width: int
    height: int
    bit_depth: int
    colour_type: int
    interlace: int
    palette: bytes | None
    trns: bytes | None
    idat: list  # memoryviews of the IDAT chunks' data, in order


def _source_name(source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return getattr(source, "name", None) or "<input>"


def _read_bytes(source) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as handle:
                return handle.read()
        except OSError as exc:
            raise ImageError(f"{os.fspath(source)}: cannot read: {exc.strerror or exc}") from None
    return source.read()


def _not_png(data: bytes) -> str:
    for magic, what in _OTHER_FORMATS:
        if data.startswith(magic):
            return f"{what}, not a PNG; vaezip reads PNG only (convert it to PNG first)"
    if data[:2] in (b"P1", b"P2", b"P3", b"P4", b"P5", b"P6") and data[2:3].isspace():
        return "a PNM file, not a PNG; vaezip reads PNG only (convert it to PNG first)"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "a WebP file, not a PNG; vaezip reads PNG only (convert it to PNG first)"
    if not data:
        return "empty file, not a PNG"
    if PNG_SIGNATURE.startswith(data):
        return "truncated PNG (the file ends inside the signature)"
    return "not a PNG file (no PNG signature)"


def _parse_chunks(data: bytes) -> _Header:
    """Walk every chunk, check the header and the critical chunks, collect IDAT."""
    if not data.startswith(PNG_SIGNATURE):
        raise ImageError(_not_png(data))
    view = memoryview(data)
    pos = len(PNG_SIGNATURE)
    ihdr = palette = trns = None
    idat: list = []
    after_idat = False
    while True:
        if pos + 8 > len(data):
            raise ImageError("truncated PNG (it ends before the IEND chunk)")
        length, kind = struct.unpack_from(">I4s", data, pos)
        if length > 0x7FFFFFFF:
            raise ImageError(f"corrupt PNG: chunk length {length} exceeds 2**31 - 1")
        if pos + 12 + length > len(data):
            raise ImageError(f"truncated PNG (it ends inside a {_kind(kind)} chunk)")
        body = view[pos + 8 : pos + 8 + length]
        critical = not (kind[0] & 0x20)
        if (critical or kind in (b"tRNS", b"acTL")) and zlib.crc32(view[pos + 4 : pos + 8 + length]) != struct.unpack_from(
            ">I", data, pos + 8 + length
        )[0]:
            raise ImageError(f"corrupt PNG: CRC mismatch in the {_kind(kind)} chunk")
        pos += 12 + length
        if ihdr is None:
            if kind != b"IHDR" or length != 13:
                raise ImageError("corrupt PNG: the first chunk is not a 13-byte IHDR")
            ihdr = struct.unpack(">IIBBBBB", body)
            _check_ihdr(*ihdr)
            continue
        if kind == b"IDAT":
            if after_idat:
                raise ImageError("corrupt PNG: IDAT chunks are not consecutive")
            idat.append(body)
            continue
        if idat:
            after_idat = True
        if kind == b"IEND":
            break
        if kind == b"acTL":
            frames = struct.unpack(">I", body[:4])[0] if length >= 4 else 0
            raise ImageError(f"animated PNG ({frames} frames) is not supported; extract the frames as PNG files")
        if kind == b"PLTE":
            if palette is not None or idat or length == 0 or length % 3 or length > 768:
                raise ImageError("corrupt PNG: invalid PLTE chunk")
            palette = bytes(body)
        elif kind == b"tRNS" and not idat and trns is None:
            trns = bytes(body)  # a late or second tRNS is ignored, as libpng does
        elif critical:
            raise ImageError(f"unsupported PNG: unknown or repeated critical chunk {_kind(kind)}")
    if not idat:
        raise ImageError("corrupt PNG: no IDAT chunk")
    width, height, depth, colour, _, _, interlace = ihdr
    if colour == 3 and palette is None:
        raise ImageError("corrupt PNG: a palette image without a PLTE chunk")
    if colour in (4, 6) or (colour == 3 and trns is not None and len(trns) > len(palette) // 3):
        trns = None  # invalid here: ignored, as libpng does
    return _Header(width, height, depth, colour, interlace, palette, trns, idat)


def _kind(kind: bytes) -> str:
    return kind.decode("latin-1") if kind.isalpha() else repr(kind)


def _check_ihdr(width, height, depth, colour, compression, filtering, interlace) -> None:
    if (colour, depth) not in _PNG_MODES:
        raise ImageError(f"corrupt PNG: colour type {colour} with bit depth {depth} is not valid")
    if compression != 0 or filtering != 0 or interlace not in (0, 1):
        raise ImageError("corrupt PNG: unknown compression, filter or interlace method")
    if width == 0 or height == 0:
        raise ImageError(f"corrupt PNG: image size {width}x{height}")
    _check_size(width, height)


def read_png(source: PathOrFile | bytes) -> Picture:
    """Read a PNG file (path, binary file object or bytes) into a Picture.

    Raises :class:`ImageError` with a one-line message for anything else:
    another format, a truncated or corrupt PNG, an animated PNG, an image
    over 65536 pixels on a side or 2**31 pixels (refused from the header,
    before decoding).
    """
    name = _source_name(source)
    data = _read_bytes(source)
    try:
        return _read(data, os.path.basename(name) if name != "<input>" else None)
    except ImageError as exc:
        raise ImageError(f"{name}: {exc}") from None


def _read(data: bytes, name: str | None) -> Picture:
    head = _parse_chunks(data)
    mode = _PNG_MODES[(head.colour_type, head.bit_depth)]
    if mode in _DECODED_HERE:
        pixels = _decode_here(head)
    else:
        pixels = _decode_pillow(data, head, mode)
    palette = None
    if mode == "P":
        entries = len(head.palette) // 3
        rgb = np.frombuffer(head.palette, np.uint8).reshape(entries, 3)
        if head.trns is not None:
            alpha = np.full((entries, 1), 255, np.uint8)
            alpha[: len(head.trns), 0] = np.frombuffer(head.trns, np.uint8)
            rgb = np.concatenate([rgb, alpha], axis=1)
        palette = rgb.copy()
        if int(pixels.max()) >= entries:
            raise ImageError(f"corrupt PNG: palette index {int(pixels.max())} outside the palette of {entries} entries")
    key = _colour_key(head, mode)
    return Picture(pixels, mode, palette, name, head.bit_depth, key)


def _colour_key(head: _Header, mode: str) -> tuple[int, ...] | None:
    """The tRNS colour key of a grey or truecolour PNG, on the Picture's scale."""
    if head.trns is None or head.colour_type not in (0, 2):
        return None
    count = 1 if head.colour_type == 0 else 3
    if len(head.trns) != 2 * count:
        return None  # invalid: ignored, as libpng does
    key = struct.unpack(f">{count}H", head.trns)
    if max(key) >= (1 << head.bit_depth):
        return None  # matches no sample: no pixel is transparent, as if absent
    if mode == "L" and head.bit_depth < 8:
        key = tuple(v * (255 // ((1 << head.bit_depth) - 1)) for v in key)
    return key


def _decode_pillow(data: bytes, head: _Header, mode: str) -> np.ndarray:
    from PIL import PngImagePlugin

    try:
        # PngImageFile directly: Image.open would apply Pillow's decompression-bomb
        # limit (about 179 megapixels); the header's size was checked above.
        with PngImagePlugin.PngImageFile(io.BytesIO(data)) as image:
            image.load()
            if image.size != (head.width, head.height):
                raise ImageError("corrupt PNG: decoded size differs from the header")
            pixels = np.array(image)  # a writable copy
    except ImageError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, zlib.error, struct.error, MemoryError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "truncated" in message or isinstance(exc, EOFError):
            raise ImageError(f"truncated PNG ({message})") from None
        raise ImageError(f"corrupt PNG ({message})") from None
    depth = 16 if mode == "I;16" else 8
    if pixels.dtype == np.bool_:
        pixels = pixels.astype(np.uint8)  # Pillow may store True as 255
    if pixels.dtype != (np.uint16 if depth == 16 else np.uint8):
        # Pillow versions that read 16-bit grey as 32-bit "I"
        if pixels.dtype.kind not in "iu" or pixels.min() < 0 or pixels.max() >= (1 << depth):
            raise ImageError(f"unexpected decoded samples ({pixels.dtype}) for mode {mode}")
        pixels = pixels.astype(np.uint16 if depth == 16 else np.uint8)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.shape != (head.height, head.width, MODES[MODE_IDS[mode]][1]):
        raise ImageError(f"unexpected decoded shape {pixels.shape} for mode {mode}")
    return np.ascontiguousarray(pixels)


# Adam7: (row start, column start, row step, column step) of the 7 passes
_ADAM7 = ((0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2), (0, 1, 2, 2), (1, 0, 2, 1))


def _decode_here(head: _Header) -> np.ndarray:
    """Decode a 16-bit (8-bit-or-more) PNG: inflate, undo the row filters, byte order."""
    channels = _PNG_CHANNELS[head.colour_type]
    bpp = channels * head.bit_depth // 8
    width, height = head.width, head.height
    if head.interlace:
        passes = []
        for y0, x0, dy, dx in _ADAM7:
            w, h = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
            if w and h:
                passes.append((y0, x0, dy, dx, w, h))
    else:
        passes = [(0, 0, 1, 1, width, height)]
    expected = sum(h * (w * bpp + 1) for *_, w, h in passes)
    raw = _inflate(head.idat, expected)
    unfilter = _unfilter_kernel()
    pixels = np.empty((height, width, channels), np.uint16)
    offset = 0
    for y0, x0, dy, dx, w, h in passes:
        size = h * (w * bpp + 1)
        rows = np.frombuffer(raw, np.uint8, size, offset).reshape(h, w * bpp + 1).copy()
        offset += size
        if int(rows[:, 0].max()) > 4:
            raise ImageError(f"corrupt PNG: unknown row filter {int(rows[:, 0].max())}")
        unfilter(rows, bpp)
        samples = rows[:, 1:].copy().view(">u2").reshape(h, w, channels)
        pixels[y0::dy, x0::dx] = samples
    return pixels


def _inflate(chunks: list, expected: int) -> bytes:
    inflater = zlib.decompressobj()
    parts = []
    total = 0
    try:
        for chunk in chunks:
            part = inflater.decompress(chunk, expected + 1 - total)
            parts.append(part)
            total += len(part)
            if total > expected:
                break
    except zlib.error as exc:
        raise ImageError(f"corrupt PNG (bad compressed data: {exc})") from None
    raw = b"".join(parts)
    if len(raw) < expected:
        raise ImageError("truncated PNG (the compressed image data ends early)")
    return raw[:expected]


_UNFILTER = None


def _unfilter_kernel():
    """Numba kernel undoing the PNG row filters in place (filter byte first in each row)."""
    global _UNFILTER
    if _UNFILTER is None:
        from vaezip.rans._jit import jit

        @jit
        def unfilter(rows, bpp):  # pragma: no cover - compiled
            height, stride = rows.shape
            for y in range(height):
                kind = rows[y, 0]
                for x in range(1, stride):
                    a = np.int32(rows[y, x - bpp]) if x > bpp else np.int32(0)
                    b = np.int32(rows[y - 1, x]) if y > 0 else np.int32(0)
                    if kind == 0:
                        continue
                    elif kind == 1:
                        pred = a
                    elif kind == 2:
                        pred = b
                    elif kind == 3:
                        pred = (a + b) >> 1
                    else:
                        c = np.int32(rows[y - 1, x - bpp]) if (x > bpp and y > 0) else np.int32(0)
                        pa = abs(b - c)
                        pb = abs(a - c)
                        pc = abs(a + b - 2 * c)
                        if pa <= pb and pa <= pc:
                            pred = a
                        elif pb <= pc:
                            pred = b
                        else:
                            pred = c
                    rows[y, x] = np.uint8((np.int32(rows[y, x]) + pred) & 0xFF)

        _UNFILTER = unfilter
    return _UNFILTER


# -- writing -----------------------------------------------------------------------------
def _png_depth(picture: Picture) -> int:
    """The IHDR bit depth write_png uses for a Picture (module docstring, "Bit depth")."""
    mode, asked = picture.mode, picture.png_bit_depth
    if mode == "1":
        return 1
    if mode == "P":
        entries = picture.palette.shape[0]
        if asked is not None and entries <= (1 << asked):
            return asked
        return next(d for d in (1, 2, 4, 8) if entries <= (1 << d))
    if mode == "L" and asked in (2, 4):
        step = 255 // ((1 << asked) - 1)
        if not np.any(picture.pixels % step):
            return asked
        return 8
    return picture.bit_depth


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def write_png(picture: Picture, target: PathOrFile) -> None:
    """Write ``picture`` as a PNG to a path or a binary file object.

    The file holds IHDR, PLTE and tRNS (palette pictures), tRNS (a colour
    key), IDAT and IEND; ``read_png`` reads it back to an equal Picture with
    the same ``png_bit_depth`` when the Picture had one.
    """
    if not isinstance(picture, Picture):
        raise ImageError(f"write_png needs a Picture, got {type(picture).__name__}")
    depth = _png_depth(picture)
    colour = _COLOUR_TYPES[picture.mode]
    out = [PNG_SIGNATURE, _chunk(b"IHDR", struct.pack(">IIBBBBB", picture.width, picture.height, depth, colour, 0, 0, 0))]
    if picture.mode == "P":
        out.append(_chunk(b"PLTE", picture.palette[:, :3].tobytes()))
        if picture.palette.shape[1] == 4:
            alpha = picture.palette[:, 3]
            opaque_tail = np.flatnonzero(alpha != 255)
            out.append(_chunk(b"tRNS", alpha[: opaque_tail[-1] + 1 if opaque_tail.size else 1].tobytes()))
    elif picture.transparency is not None:
        key = picture.transparency
        if depth < 8 and picture.mode == "L":
            key = tuple(v // (255 // ((1 << depth) - 1)) for v in key)
        out.append(_chunk(b"tRNS", struct.pack(f">{len(key)}H", *key)))
    out.extend(_chunk(b"IDAT", part) for part in _compressed(picture, depth))
    out.append(_chunk(b"IEND", b""))
    data = b"".join(out)
    if isinstance(target, (str, os.PathLike)):
        with open(target, "wb") as handle:
            handle.write(data)
    else:
        target.write(data)


def _packed_rows(picture: Picture, depth: int) -> np.ndarray:
    """The raw (unfiltered) rows as (H, row bytes) uint8."""
    pixels = picture.pixels
    height, width, channels = pixels.shape
    if depth == 16:
        return pixels.astype(">u2").view(np.uint8).reshape(height, width * channels * 2)
    if depth == 8:
        return pixels.reshape(height, width * channels)
    values = pixels[:, :, 0]
    if picture.mode == "L":
        values = values // (255 // ((1 << depth) - 1))
    if depth == 1:
        return np.packbits(values.astype(bool), axis=1)
    per_byte = 8 // depth
    padded = np.zeros((height, -(-width // per_byte) * per_byte), np.uint8)
    padded[:, :width] = values
    groups = padded.reshape(height, -1, per_byte)
    packed = np.zeros(groups.shape[:2], np.uint8)
    for k in range(per_byte):
        packed |= groups[:, :, k] << np.uint8(8 - depth * (k + 1))
    return packed


def _compressed(picture: Picture, depth: int):
    """The zlib stream of the filtered rows, in pieces of at most _IDAT_CHUNK bytes."""
    rows = _packed_rows(picture, depth)
    height, stride = rows.shape
    bpp = max(1, picture.channels * depth // 8)
    # libpng's rule: no filtering for palette and sub-byte images, else the
    # filter with the smallest sum of absolute (signed) values, row by row
    adaptive = picture.mode != "P" and depth >= 8
    level = _ZLIB_LEVEL if rows.size <= _BIG_IMAGE else _ZLIB_LEVEL_BIG
    compressor = zlib.compressobj(level)
    pending = bytearray()
    block = max(1, _FILTER_BLOCK // (stride + 1))
    previous = np.zeros(stride, np.uint8)
    for start in range(0, height, block):
        chunk = rows[start : start + block]
        filtered = _filter_block(chunk, previous, bpp) if adaptive else _no_filter(chunk)
        previous = chunk[-1]
        pending += compressor.compress(filtered.tobytes())
        while len(pending) >= _IDAT_CHUNK:
            yield bytes(pending[:_IDAT_CHUNK])
            del pending[:_IDAT_CHUNK]
    pending += compressor.flush()
    for start in range(0, len(pending), _IDAT_CHUNK):
        yield bytes(pending[start : start + _IDAT_CHUNK])


def _no_filter(rows: np.ndarray) -> np.ndarray:
    out = np.zeros((rows.shape[0], rows.shape[1] + 1), np.uint8)
    out[:, 1:] = rows
    return out


def _filter_block(rows: np.ndarray, previous: np.ndarray, bpp: int) -> np.ndarray:
    """Rows with the filter byte first, each with the cheapest of PNG's five filters.

    "Cheapest": libpng's heuristic, the smallest sum of the filtered bytes read
    as signed, here summed over every 4th byte of wide rows (the choice only
    affects the file size, and this costs a quarter).
    """
    n, stride = rows.shape
    up = np.empty_like(rows)
    up[0] = previous
    up[1:] = rows[:-1]
    left = np.zeros_like(rows)
    left[:, bpp:] = rows[:, :-bpp]
    upleft = np.zeros_like(rows)
    upleft[:, bpp:] = up[:, :-bpp]
    step = 4 if stride >= 64 else 1
    sample = [x[:, ::step] for x in (rows, left, up, upleft)]
    cost = np.empty((5, n), np.int64)
    for kind in range(5):
        filtered = _apply_filter(kind, *sample).view(np.int8).astype(np.int16)
        np.abs(filtered, out=filtered)
        cost[kind] = filtered.sum(axis=1)
    choice = np.argmin(cost, axis=0)
    out = np.empty((n, stride + 1), np.uint8)
    out[:, 0] = choice
    for kind in np.unique(choice):
        which = choice == kind
        if which.all():
            out[:, 1:] = _apply_filter(int(kind), rows, left, up, upleft)
        else:
            out[which, 1:] = _apply_filter(int(kind), rows[which], left[which], up[which], upleft[which])
    return out


def _apply_filter(kind: int, raw, left, up, upleft) -> np.ndarray:
    """PNG filter ``kind`` of the raw bytes, given their left, up and up-left neighbours (uint8)."""
    if kind == 0:
        return raw
    if kind == 1:
        return raw - left  # uint8 arithmetic wraps modulo 256, as PNG's does
    if kind == 2:
        return raw - up
    if kind == 3:
        return raw - ((left.astype(np.uint16) + up) >> 1).astype(np.uint8)
    a, b, c = left.astype(np.int16), up.astype(np.int16), upleft.astype(np.int16)
    pa = np.abs(b - c)
    pb = np.abs(a - c)
    pc = np.abs(a + b - 2 * c)
    return raw - np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, upleft))
