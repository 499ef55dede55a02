"""The header's records after the preamble (docs/format.md, "Model" to "Stream table").

The model name and weights id, the codec parameters, the image table (in
version 3 followed by its name table), one checksum per image entry and the
stream table, in that order. Every format version writes these records;
``layout`` (the version's module, ``v1``, ``v2`` or ``v3``) says how its
counts and sizes are written, where names go and what it adds. The one-image
form of version 3 (``compact``) reuses the entry's and the model's parts.
"""

from __future__ import annotations

import struct
from dataclasses import replace

from vaezip.format.checks import check_entry, check_header, check_stream, check_totals
from vaezip.format.errors import Invalid, require
from vaezip.format.fields import U8, Cursor
from vaezip.format.names import pack_names, read_names
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
def pack_model(header: Header, layout) -> bytes:
    """The model name and weights id, then the codec parameters."""
    name = header.model.encode("ascii")
    codec = bytes([header.likelihood_precision, header.posterior_precision, header.latent_bits, header.estimator])
    return U8.pack(len(name)) + name + bytes(header.model_sha256) + codec + layout.codec_counts(header)


def entry_flags(entry: ImageEntry) -> int:
    has_png = bool(entry.png_bit_depth or entry.transparency)
    return (ENTRY_HAS_NAMES if entry.names else 0) | (ENTRY_HAS_PNG if has_png else 0)


def pack_kind(entry: ImageEntry, layout) -> bytes:
    """Height, width, mode (and what the layout adds to it) and coder."""
    return (layout.number(entry.height, "I") + layout.number(entry.width, "I")
            + layout.mode_bytes(MODE_IDS[entry.mode]) + bytes([entry.coder]))


def pack_tables(entry: ImageEntry, layout) -> bytes:
    """The palette and the tile coders, where the entry has them."""
    parts = []
    if entry.mode == "P":
        parts.append(layout.number(len(entry.palette) // entry.palette_channels, "H"))
        parts.append(bytes([entry.palette_channels]) + bytes(entry.palette))
    if entry.coder == CODER_PER_TILE:
        parts.append(layout.number(len(entry.tile_coders), "I") + bytes(entry.tile_coders))
    return b"".join(parts)


def pack_png_extras(entry: ImageEntry) -> bytes:
    if not entry_flags(entry) & ENTRY_HAS_PNG:
        return b""
    key = tuple(entry.transparency)
    return U8.pack(entry.png_bit_depth) + U8.pack(len(key)) + struct.pack(f"<{len(key)}H", *key)


def _pack_entry(entry: ImageEntry, layout) -> bytes:
    parts = [layout.number(entry.count, "I"), pack_kind(entry, layout), bytes([entry_flags(entry)]),
             pack_tables(entry, layout)]
    if not layout.CODED_NAMES:  # versions 1 and 2: each name in its entry, as it is
        parts += [U8.pack(len(encoded)) + encoded for encoded in (name.encode("utf-8") for name in entry.names)]
    parts.append(pack_png_extras(entry))
    return b"".join(parts)


def all_names(images) -> list[str]:
    """The names of every entry that has names, in image order: what a version-3 name table holds."""
    return [name for entry in images for name in entry.names]


def pack_body(archive: Archive, layout) -> bytes:
    """The header's records after the preamble, without the header CRC."""
    parts = [pack_model(archive.header, layout), layout.number(len(archive.images), "I")]
    parts += [_pack_entry(entry, layout) for entry in archive.images]
    names = all_names(archive.images)
    if layout.CODED_NAMES and names:
        parts.append(pack_names(names))
    parts += [bytes(checksum) for checksum in archive.checksums]
    parts.append(layout.number(len(archive.streams), "I"))
    for s in (x.entry for x in archive.streams):
        parts += [layout.number(s.image_count, "I"), layout.number(s.word_count, "Q"),
                  layout.number(s.fillers, "I")]
    return b"".join(parts)


# -- reading -----------------------------------------------------------------
def read_model(cur: Cursor, version: int, writer: tuple[int, int, int]) -> Header:
    """The header of a file of ``version`` written by ``writer``: its model and codec parameters (``pack_model``)."""
    (name_len,) = cur.unpack(U8)
    require(1 <= name_len <= MAX_MODEL_NAME, f"model name length {name_len} is outside 1..{MAX_MODEL_NAME}")
    raw_name = cur.take(name_len)
    require(MODEL_NAME.fullmatch(raw_name.decode("latin-1")) is not None, "model name is not [a-z0-9._-]")
    sha = cur.take(WEIGHTS_ID_SIZE[version])
    lik, post, latent, estimator = cur.take(4)
    particles, batch = cur.layout.read_codec_counts(cur)
    header = Header(raw_name.decode("ascii"), sha, lik, post, latent, estimator, particles, batch, 0,
                    version, writer)
    check_header(header)
    return header


def read_kind(cur: Cursor) -> tuple[int, int, str, int]:
    """Height, width, mode and coder (``pack_kind``)."""
    height, width, mode_id = cur.number("I"), cur.number("I"), cur.byte()
    require(mode_id in MODES, f"mode {mode_id} is not one of 0..{len(MODES) - 1}")
    cur.layout.check_mode_bytes(cur, mode_id)
    return height, width, MODES[mode_id][0], cur.byte()


def read_tables(cur: Cursor, mode: str, coder: int) -> tuple[bytes, int, bytes]:
    """Palette, palette channels and tile coders (``pack_tables``)."""
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
    return palette, palette_channels, tile_coders


def check_flags(flags: int) -> None:
    require(flags & ~(ENTRY_HAS_NAMES | ENTRY_HAS_PNG) == 0, f"image entry flags {flags:#x} are not defined")


def _read_entry(cur: Cursor, model_free: bool) -> tuple[ImageEntry, bool]:
    """An entry, and whether it has names (version 3 gives them in the name table, after the entries)."""
    count = cur.number("I")
    height, width, mode, coder = read_kind(cur)
    flags = cur.byte()
    check_flags(flags)
    require(1 <= count <= MAX_IMAGES, f"image count {count} is outside 1..{MAX_IMAGES}")
    palette, palette_channels, tile_coders = read_tables(cur, mode, coder)
    named = bool(flags & ENTRY_HAS_NAMES)
    names = _read_names(cur, count) if named and not cur.layout.CODED_NAMES else ()
    png_bit_depth, key = read_png_extras(cur) if flags & ENTRY_HAS_PNG else (0, ())
    entry = ImageEntry(height, width, mode, count, coder, tile_coders, palette, palette_channels, names,
                       png_bit_depth, key)
    check_entry(entry, model_free)
    return entry, named


def _read_names(cur: Cursor, count: int) -> tuple[str, ...]:
    require(count <= cur.remaining(), f"{count} image names do not fit in the header")
    return tuple(_read_name(cur) for _ in range(count))


def read_png_extras(cur: Cursor) -> tuple[int, tuple[int, ...]]:
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


def name_entries(cur: Cursor, images: list[ImageEntry], named: list[bool], model_free: bool) -> list[ImageEntry]:
    """``images`` with the names of the name table at the cursor given to the entries ``named`` flags."""
    count = sum(entry.count for entry, flag in zip(images, named) if flag)
    if not count:
        return images
    names = iter(read_names(cur, count))
    images = [replace(entry, names=tuple(next(names) for _ in range(entry.count))) if flag else entry
              for entry, flag in zip(images, named)]
    for entry in images:
        check_entry(entry, model_free)
    return images


def _read_images(cur: Cursor, model_free: bool) -> list[ImageEntry]:
    count = cur.number("I")
    require(count <= MAX_IMAGES, f"{count} image entries exceed the cap of {MAX_IMAGES}")
    require(count * (cur.layout.SMALLEST_ENTRY + CHECKSUM_SIZE) <= cur.remaining(), f"{count} image entries do not fit")
    images, named, total_images, total_pixels = [], [], 0, 0
    for _ in range(count):
        entry, flag = _read_entry(cur, model_free)
        total_images += entry.count
        total_pixels += entry.pixels
        require(total_images <= MAX_IMAGES, f"more than {MAX_IMAGES} images declared")
        require(total_pixels <= MAX_PIXELS, f"more than {MAX_PIXELS} pixels declared")
        images.append(entry)
        named.append(flag)
    return name_entries(cur, images, named, model_free) if cur.layout.CODED_NAMES else images


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
    header = read_model(cur, preamble.version, preamble.writer)
    images = _read_images(cur, header.model == MODEL_FREE)
    checksums = [cur.take(CHECKSUM_SIZE) for _ in images]
    streams = _read_streams(cur)
    require(cur.remaining() == 0, f"{cur.remaining()} unexplained bytes at the end of the header")
    check_totals(images, streams, checksums)
    payload = preamble.file_size - preamble.header_size - 4
    words = sum(stream.word_count for stream in streams)
    require(4 * words == payload, f"the stream table declares {4 * words} payload bytes, the file has {payload}")
    return Contents(header, images, streams, checksums, preamble.header_size, preamble.file_size)
