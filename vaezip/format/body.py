"""The header's records after the preamble (docs/format.md, "Model" to "Stream table").

The model name and weights id, the codec parameters, the image table, one
checksum per image entry and the stream table, in that order. Every format
version writes these records; ``layout`` (the version's module, ``v1`` or
``v2``) says how its counts and sizes are written and what it adds.
"""

from __future__ import annotations

import struct

from vaezip.format.checks import check_entry, check_header, check_stream, check_totals
from vaezip.format.errors import Invalid, require
from vaezip.format.fields import U8, Cursor
from vaezip.format.records import (
    CHECKSUM_SIZE,
    CODER_PER_TILE,
    ENTRY_HAS_NAMES,
    ENTRY_HAS_PNG,
    MAX_IMAGES,
    MAX_MODEL_NAME,
    MAX_PIXELS,
    MAX_STREAMS,
    MODE_IDS,
    MODEL_FREE,
    MODEL_NAME,
    MODES,
    WEIGHTS_ID_SIZE,
    Archive,
    Contents,
    Header,
    ImageEntry,
    Preamble,
    StreamEntry,
)


# -- writing -------------------------------------------------------------------
def _pack_model(header: Header) -> bytes:
    name = header.model.encode("ascii")
    return U8.pack(len(name)) + name + bytes(header.model_sha256)


def _pack_codec(header: Header, layout) -> bytes:
    head = bytes([header.likelihood_precision, header.posterior_precision, header.latent_bits, header.estimator])
    return head + layout.codec_counts(header)


def _pack_entry(entry: ImageEntry, layout) -> bytes:
    has_png = bool(entry.png_bit_depth or entry.transparency)
    flags = (ENTRY_HAS_NAMES if entry.names else 0) | (ENTRY_HAS_PNG if has_png else 0)
    parts = [layout.number(entry.count, "I"), layout.number(entry.height, "I"),
             layout.number(entry.width, "I"), layout.mode_bytes(MODE_IDS[entry.mode])]
    parts.append(bytes([entry.coder, flags]))
    if entry.mode == "P":
        parts.append(layout.number(len(entry.palette) // entry.palette_channels, "H"))
        parts.append(bytes([entry.palette_channels]) + bytes(entry.palette))
    if entry.coder == CODER_PER_TILE:
        parts.append(layout.number(len(entry.tile_coders), "I") + bytes(entry.tile_coders))
    for name in entry.names:
        encoded = name.encode("utf-8")
        parts.append(U8.pack(len(encoded)) + encoded)
    if has_png:
        key = tuple(entry.transparency)
        parts.append(U8.pack(entry.png_bit_depth) + U8.pack(len(key)) + struct.pack(f"<{len(key)}H", *key))
    return b"".join(parts)


def pack_body(archive: Archive, layout) -> bytes:
    """The header's records after the preamble, without the header CRC."""
    parts = [_pack_model(archive.header), _pack_codec(archive.header, layout),
             layout.number(len(archive.images), "I")]
    parts += [_pack_entry(entry, layout) for entry in archive.images]
    parts += [bytes(checksum) for checksum in archive.checksums]
    parts.append(layout.number(len(archive.streams), "I"))
    for s in (x.entry for x in archive.streams):
        parts += [layout.number(s.image_count, "I"), layout.number(s.word_count, "Q"),
                  layout.number(s.fillers, "I")]
    return b"".join(parts)


# -- reading -----------------------------------------------------------------
def _read_header_fields(cur: Cursor, preamble: Preamble) -> Header:
    (name_len,) = cur.unpack(U8)
    require(1 <= name_len <= MAX_MODEL_NAME, f"model name length {name_len} is outside 1..{MAX_MODEL_NAME}")
    raw_name = cur.take(name_len)
    require(MODEL_NAME.fullmatch(raw_name.decode("latin-1")) is not None, "model name is not [a-z0-9._-]")
    sha = cur.take(WEIGHTS_ID_SIZE[preamble.version])
    lik, post, latent, estimator = cur.take(4)
    particles, batch = cur.layout.read_codec_counts(cur)
    header = Header(raw_name.decode("ascii"), sha, lik, post, latent, estimator, particles, batch, 0,
                    preamble.version, preamble.writer)
    check_header(header)
    return header


def _read_entry(cur: Cursor, model_free: bool) -> ImageEntry:
    count, height, width = cur.number("I"), cur.number("I"), cur.number("I")
    mode_id = cur.byte()
    require(mode_id in MODES, f"mode {mode_id} is not one of 0..{len(MODES) - 1}")
    cur.layout.check_mode_bytes(cur, mode_id)
    mode = MODES[mode_id][0]
    coder, flags = cur.byte(), cur.byte()
    require(flags & ~(ENTRY_HAS_NAMES | ENTRY_HAS_PNG) == 0, f"image entry flags {flags:#x} are not defined")
    require(1 <= count <= MAX_IMAGES, f"image count {count} is outside 1..{MAX_IMAGES}")
    palette, palette_channels = b"", 0
    if mode == "P":
        entries, palette_channels = cur.number("H"), cur.byte()
        require(1 <= entries <= 256 and palette_channels in (3, 4), "palette size or channels out of range")
        palette = cur.take(entries * palette_channels)
    tile_coders = b""
    if coder == CODER_PER_TILE:
        tiles = cur.number("I")
        require(1 <= tiles <= cur.remaining(), f"{tiles} tile coders do not fit in the header")
        tile_coders = cur.take(tiles)
    names = _read_names(cur, count) if flags & ENTRY_HAS_NAMES else ()
    png_bit_depth, key = _read_png_extras(cur) if flags & ENTRY_HAS_PNG else (0, ())
    entry = ImageEntry(height, width, mode, count, coder, tile_coders, palette, palette_channels, names,
                       png_bit_depth, key)
    check_entry(entry, model_free)
    return entry


def _read_names(cur: Cursor, count: int) -> tuple[str, ...]:
    require(count <= cur.remaining(), f"{count} image names do not fit in the header")
    return tuple(_read_name(cur) for _ in range(count))


def _read_png_extras(cur: Cursor) -> tuple[int, tuple[int, ...]]:
    png_bit_depth, key_count = cur.byte(), cur.byte()
    require(key_count in (0, 1, 3), f"a colour key has 0, 1 or 3 samples, not {key_count}")
    key = struct.unpack(f"<{key_count}H", cur.take(2 * key_count))
    require(png_bit_depth or key, "PNG extras flagged but empty")
    return png_bit_depth, key


def _read_name(cur: Cursor) -> str:
    raw = cur.take(cur.byte())
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("an image name is not valid UTF-8") from None


def _read_images(cur: Cursor, model_free: bool) -> list[ImageEntry]:
    count = cur.number("I")
    require(count <= MAX_IMAGES, f"{count} image entries exceed the cap of {MAX_IMAGES}")
    require(count * (cur.layout.SMALLEST_ENTRY + CHECKSUM_SIZE) <= cur.remaining(), f"{count} image entries do not fit")
    images, total_images, total_pixels = [], 0, 0
    for _ in range(count):
        entry = _read_entry(cur, model_free)
        total_images += entry.count
        total_pixels += entry.pixels
        require(total_images <= MAX_IMAGES, f"more than {MAX_IMAGES} images declared")
        require(total_pixels <= MAX_PIXELS, f"more than {MAX_PIXELS} pixels declared")
        images.append(entry)
    return images


def _read_streams(cur: Cursor) -> list[StreamEntry]:
    count = cur.number("I")
    require(count <= MAX_STREAMS, f"{count} streams exceed the cap of {MAX_STREAMS}")
    require(count * cur.layout.SMALLEST_STREAM <= cur.remaining(), f"{count} stream entries do not fit in the header")
    streams = [StreamEntry(cur.number("I"), cur.number("Q"), cur.number("I")) for _ in range(count)]
    for stream in streams:
        check_stream(stream)
    return streams


def parse_body(data, preamble: Preamble, layout) -> Contents:
    """Parse the header's records, after the preamble (CRC already checked); raises Invalid."""
    cur = Cursor(data, preamble.size, preamble.header_size - 4, layout)
    header = _read_header_fields(cur, preamble)
    images = _read_images(cur, header.model == MODEL_FREE)
    checksums = [cur.take(CHECKSUM_SIZE) for _ in images]
    streams = _read_streams(cur)
    require(cur.remaining() == 0, f"{cur.remaining()} unexplained bytes at the end of the header")
    check_totals(images, streams, checksums)
    payload = preamble.file_size - preamble.header_size - 4
    words = sum(stream.word_count for stream in streams)
    require(4 * words == payload, f"the stream table declares {4 * words} payload bytes, the file has {payload}")
    return Contents(header, images, streams, checksums, preamble.header_size, preamble.file_size)
