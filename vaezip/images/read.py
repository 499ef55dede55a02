"""PNG in: ``read_png`` turns a PNG file into a Picture (see ``vaezip.images`` for the rules).

The chunk structure (IHDR, PLTE, tRNS, acTL, IEND, every critical chunk's
CRC) is walked and checked before any pixel is decoded. Pillow decodes what
it keeps exact; 16-bit grey+alpha and 16-bit colour are decoded here (zlib,
and a Numba loop for the row filters, imported only then).
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass

import numpy as np

from vaezip.format import MODE_IDS, MODES
from vaezip.images.picture import ImageError, Picture, check_size
from vaezip.images.png import PNG_CHANNELS, PNG_MODES, PNG_SIGNATURE, PathOrFile

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
    kind, body, _, pos = _next_chunk(data, view, len(PNG_SIGNATURE))
    if kind != b"IHDR" or len(body) != 13:
        raise ImageError("corrupt PNG: the first chunk is not a 13-byte IHDR")
    ihdr = struct.unpack(">IIBBBBB", body)
    _check_ihdr(*ihdr)
    palette = trns = None
    idat: list = []
    after_idat = False
    while True:
        kind, body, critical, pos = _next_chunk(data, view, pos)
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
            frames = struct.unpack(">I", body[:4])[0] if len(body) >= 4 else 0
            raise ImageError(f"animated PNG ({frames} frames) is not supported; extract the frames as PNG files")
        if kind == b"PLTE":
            if palette is not None or idat or len(body) == 0 or len(body) % 3 or len(body) > 768:
                raise ImageError("corrupt PNG: invalid PLTE chunk")
            palette = bytes(body)
        elif kind == b"tRNS" and not idat and trns is None:
            trns = bytes(body)  # a late or second tRNS is ignored, as libpng does
        elif critical:
            raise ImageError(f"unsupported PNG: unknown or repeated critical chunk {_kind(kind)}")
    return _png_header(ihdr, palette, trns, idat)


def _next_chunk(data: bytes, view: memoryview, pos: int) -> tuple[bytes, memoryview, bool, int]:
    """``(kind, body, critical, position after it)`` of the chunk at ``pos``, its CRC checked
    if it is critical (or tRNS or acTL)."""
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
    return kind, body, critical, pos + 12 + length


def _png_header(ihdr: tuple, palette: bytes | None, trns: bytes | None, idat: list) -> _Header:
    """The checked header of a PNG whose chunks have been walked."""
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
    if (colour, depth) not in PNG_MODES:
        raise ImageError(f"corrupt PNG: colour type {colour} with bit depth {depth} is not valid")
    if compression != 0 or filtering != 0 or interlace not in (0, 1):
        raise ImageError("corrupt PNG: unknown compression, filter or interlace method")
    if width == 0 or height == 0:
        raise ImageError(f"corrupt PNG: image size {width}x{height}")
    check_size(width, height)


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
    mode = PNG_MODES[(head.colour_type, head.bit_depth)]
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
    channels = PNG_CHANNELS[head.colour_type]
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
