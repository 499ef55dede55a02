"""The one-image form of format version 3 (docs/format.md, "One-image files").

A file of one image in one stream spends at most about 32 bytes around its
payload. A *lead* (a 4-byte signature, a byte holding the format version
and four flags, the writer's version, the file size, and a CRC-16 of the
lead), then the image's entry without its count, the model and codec
parameters only when a network codes the image, the name table and PNG
extras when there are any, the first 8 bytes of the pixel checksum, the
filler count when it is not 0, the stream's words, and one CRC-32 of all
that comes before it. There is no stream table: the words are the rest of
the file.

The lead CRC is what tells a truncated file (the lead intact, the file
shorter than it says) from a damaged one; the CRC-32 covers every byte.
"""

from __future__ import annotations

import binascii
import zlib

from vaezip.format import v3
from vaezip.format.body import (
    check_flags, entry_flags, pack_kind, pack_model, pack_png_extras, pack_tables, read_kind, read_model,
    read_png_extras, read_tables,
)
from vaezip.format.checks import check_entry, check_totals, check_version, check_whole_file
from vaezip.format.errors import CorruptError, Invalid, Short, TruncatedError, corrupt, require
from vaezip.format.fields import U32, Cursor, varint
from vaezip.format.names import pack_names, read_names
from vaezip.format.records import (
    COMPACT_MAGIC, ENTRY_HAS_NAMES, ENTRY_HAS_PNG, MODEL_FREE, SHORT_CHECKSUM_SIZE, Archive,
    Contents, Header, ImageEntry, StreamEntry,
)

HAS_MODEL = 0x04  # the model and codec parameters follow the entry (otherwise: model "none", defaults)
HAS_FILLERS = 0x08  # a filler count follows the checksum (otherwise: 0 fillers)
LEAD_CHECK_SIZE = 2
SMALLEST_REST = 4 + SHORT_CHECKSUM_SIZE + 8 + 4  # entry, checksum, a bare state, the CRC-32
_CODEC_DEFAULTS = Header()


def fits(archive: Archive) -> bool:
    """Whether ``archive`` is written in the one-image form: version 3, one image in one stream, and
    a model, or model "none" with the default codec parameters (which that form does not store)."""
    header = archive.header
    plain = all(getattr(header, name) == getattr(_CODEC_DEFAULTS, name) for name in
                ("likelihood_precision", "posterior_precision", "latent_bits", "estimator", "particles", "batch_size"))
    return (header.version == 3 and len(archive.images) == 1 and archive.images[0].count == 1
            and len(archive.streams) == 1 and (header.model != MODEL_FREE or plain))


def _pack_lead(kind: int, writer, rest_size: int) -> bytes:
    """The lead: signature, kind, writer, file size (its own varint counted in it), lead CRC-16."""
    head = COMPACT_MAGIC + bytes([kind]) + b"".join(varint(v) for v in writer)
    size_bytes = 1
    while len(varint(len(head) + size_bytes + LEAD_CHECK_SIZE + rest_size)) != size_bytes:
        size_bytes += 1
    lead = head + varint(len(head) + size_bytes + LEAD_CHECK_SIZE + rest_size)
    return lead + binascii.crc_hqx(lead, 0).to_bytes(LEAD_CHECK_SIZE, "little")


def pack(archive: Archive, payload: bytes) -> bytes:
    """The one-image file of ``archive`` (``fits``), whose stream's words are ``payload``."""
    header, entry, stream = archive.header, archive.images[0], archive.streams[0]
    model = header.model != MODEL_FREE
    flags = entry_flags(entry) | (HAS_MODEL if model else 0) | (HAS_FILLERS if stream.fillers else 0)
    parts = [pack_kind(entry, v3), pack_tables(entry, v3), pack_model(header, v3) if model else b"",
             pack_names(list(entry.names)) if entry.names else b"", pack_png_extras(entry),
             bytes(archive.checksums[0][:SHORT_CHECKSUM_SIZE]), varint(stream.fillers) if stream.fillers else b"",
             payload]
    rest = b"".join(parts)
    data = _pack_lead(header.version << 4 | flags, header.writer, len(rest) + 4) + rest
    return data + U32.pack(zlib.crc32(data))


# -- reading ---------------------------------------------------------------------
def _read_lead(data) -> tuple[int, int, tuple[int, int, int], int, int]:
    """Version, flags, writer, file size and the lead's size; the lead CRC checked, then the version."""
    cur = Cursor(data, len(COMPACT_MAGIC), len(data))
    try:
        kind = cur.byte()
        writer = (cur.varint(), cur.varint(), cur.varint())
        file_size = cur.varint()
        check = int.from_bytes(cur.take(LEAD_CHECK_SIZE), "little")
    except Short:
        raise TruncatedError(f"the file ends after {len(data)} bytes, inside its lead") from None
    except Invalid as error:
        raise CorruptError(f"the lead is corrupt ({error}): restore the file from a good copy") from None
    if binascii.crc_hqx(data[: cur.pos - LEAD_CHECK_SIZE], 0) != check:
        raise CorruptError("the lead CRC does not match: the file is corrupt; restore it from a good copy")
    version = kind >> 4
    if version < 3:
        raise CorruptError(f"a one-image file of format version {version} does not exist: the file is corrupt")
    check_version(version, 0, writer)
    if not (all(v < 1 << 16 for v in writer) and cur.pos + SMALLEST_REST <= file_size):
        raise CorruptError(f"file size {file_size} or writer {writer} is out of range: the file is corrupt")
    return version, kind & 0x0F, writer, file_size, cur.pos


def _checked(data) -> tuple[int, int, tuple[int, int, int], int, int]:
    """The lead of a whole, intact file: its size and CRC-32 checked."""
    version, flags, writer, file_size, lead_size = _read_lead(data)
    check_whole_file(data, file_size)
    return version, flags, writer, file_size, lead_size


def _parse(data, version: int, flags: int, writer, file_size: int, lead_size: int) -> Contents:
    cur = Cursor(data, lead_size, file_size - 4, v3)
    check_flags(flags & ~(HAS_MODEL | HAS_FILLERS))
    height, width, mode, coder = read_kind(cur)
    palette, palette_channels, tile_coders = read_tables(cur, mode, coder)
    header = Header(version=version, writer=writer)
    if flags & HAS_MODEL:
        header = read_model(cur, version, writer)
        require(header.model != MODEL_FREE, 'a one-image file names model "none" by leaving its model out')
    names = tuple(read_names(cur, 1)) if flags & ENTRY_HAS_NAMES else ()
    png_bit_depth, key = read_png_extras(cur) if flags & ENTRY_HAS_PNG else (0, ())
    entry = ImageEntry(height, width, mode, 1, coder, tile_coders, palette, palette_channels, names,
                       png_bit_depth, key)
    check_entry(entry, header.model == MODEL_FREE)
    checksum = cur.take(SHORT_CHECKSUM_SIZE)
    fillers = cur.varint() if flags & HAS_FILLERS else 0
    require(fillers or not flags & HAS_FILLERS, "a filler count of 0 is flagged")
    words, rest = divmod(cur.remaining(), 4)
    require(rest == 0, f"the payload of {cur.remaining()} bytes is not a whole number of words")
    stream = StreamEntry(1, words, fillers)
    check_totals([entry], [stream], [checksum], SHORT_CHECKSUM_SIZE)
    return Contents(header, [entry], [stream], [checksum], cur.pos, file_size)  # header_size: the payload's offset


def read(data) -> Contents:
    """The contents of the one-image file ``data`` (the whole file); its payload starts at ``header_size``."""
    try:
        return _parse(data, *_checked(data))
    except Invalid as error:
        raise corrupt(error) from None
