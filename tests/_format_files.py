"""Helpers of the .vz container tests: small archives, and files forged byte by byte from docs/format.md."""

from __future__ import annotations

import hashlib
import struct
import zlib

import numpy as np

from vaezip import format as vz
from vaezip.format import Archive, Header, ImageEntry, Stream

FILLER = 0x9E3779B9  # vaezip.rans FILLER_WORD; not imported, to keep these tests free of numba


def assert_same(a: Archive, b: Archive, data: bytes = b"") -> None:
    assert a.header == b.header
    assert a.images == b.images
    # a one-image file of version 3 keeps the first 8 bytes of its checksum
    assert [c[: len(d)] for c, d in zip(a.checksums, b.checksums)] == b.checksums
    assert all(len(d) == (8 if bytes(data[:4]) == vz.COMPACT_MAGIC else 16) for d in b.checksums) if data else True
    assert len(a.streams) == len(b.streams)
    for sa, sb in zip(a.streams, b.streams):
        assert (sa.fillers, sa.image_count) == (sb.fillers, sb.image_count)
        np.testing.assert_array_equal(np.asarray(sa.words, dtype=np.uint32), sb.words)
        assert sb.words.dtype == np.uint32


def state_words(low: int = 0x89ABCDEF, high: int = 0x01234567) -> list[int]:
    return [low, high]


VERSIONS = (1, 2, 3)


def small_archive(version: int = vz.FORMAT_VERSION) -> Archive:
    """Two image entries, two streams, one name, a palette: a file of about 250 bytes (version 1)."""
    sha = vz.weights_id(hashlib.sha256(b"tiny").digest(), version)
    header = Header(model="tiny-test", model_sha256=sha, batch_size=4, version=version)
    images = [
        ImageEntry(3, 4, "L", count=2),
        ImageEntry(2, 3, "P", palette=bytes(range(12)), palette_channels=3, names=("p.png",)),
    ]
    streams = [
        Stream(np.array([FILLER, 7, *state_words()], dtype=np.uint32), fillers=1, image_count=2),
        Stream(np.array(state_words(5, 6), dtype=np.uint32), fillers=0, image_count=1),
    ]
    return Archive(header, images, streams, [bytes(range(16)), bytes(range(16, 32))])


def one_image_archive(**change) -> Archive:
    """One named image with PNG extras in one stream with a filler: a version-3 file in the one-image form."""
    sha = vz.weights_id(hashlib.sha256(b"tiny").digest())
    fields = dict(
        header=Header(model="tiny-test", model_sha256=sha, batch_size=4),
        images=[ImageEntry(3, 4, "L", names=("digit.png",), png_bit_depth=8, transparency=(7,))],
        streams=[Stream(np.array([FILLER, 7, *state_words()], dtype=np.uint32), fillers=1)],
        checksums=[bytes(range(16))],
    )
    fields.update(change)
    return Archive(**fields)


# A version-1 file forged byte by byte from docs/format.md, independent of
# vz.write, with correct sizes and CRCs: only the fields themselves can be wrong.
def forge_body(
    model: bytes = b"\x04none" + bytes(32),
    codec: bytes = struct.pack("<BBBBHHI", 16, 16, 12, 0, 1, 0, 1),
    entries: list[bytes] = (),
    entry_count: int | None = None,
    checksums: bytes | None = None,
    streams: list[bytes] = (),
    stream_count: int | None = None,
) -> bytes:
    entry_count = len(entries) if entry_count is None else entry_count
    stream_count = len(streams) if stream_count is None else stream_count
    checksums = bytes(16 * len(entries)) if checksums is None else checksums
    table = struct.pack("<I", entry_count) + b"".join(entries) + checksums
    return model + codec + table + struct.pack("<I", stream_count) + b"".join(streams)


def forge(body: bytes, payload: bytes = b"", version: int = 1, flags: int = 0, writer=None) -> bytes:
    writer = Header().writer if writer is None else writer
    header_size = 40 + len(body) + 4
    file_size = header_size + len(payload) + 4
    preamble = vz.MAGIC + struct.pack("<HHHHHHQI", version, flags, *writer, 0, file_size, header_size)
    head = preamble + struct.pack("<I", zlib.crc32(preamble)) + body
    head += struct.pack("<I", zlib.crc32(head))
    data = head + payload
    return data + struct.pack("<I", zlib.crc32(data))


def entry(count=1, height=2, width=2, mode=1, channels=1, depth=8, coder=1, flags=0, extra=b"") -> bytes:
    return struct.pack("<IIIBBBBB", count, height, width, mode, channels, depth, coder, flags) + extra


def stream(image_count=1, words=2, fillers=0) -> bytes:
    return struct.pack("<IQI", image_count, words, fillers)


ONE_STATE = struct.pack("<II", 5, 6)


# The same for version 2: counts and sizes as LEB128 varints, a 16-byte weights id.
def varint(value: int) -> bytes:
    out = b""
    while value >= 0x80:
        out += bytes([value & 0x7F | 0x80])
        value >>= 7
    return out + bytes([value])


def codec2(lik=16, post=16, latent=12, estimator=0, particles=1, batch=1) -> bytes:
    return bytes([lik, post, latent, estimator]) + varint(particles) + varint(batch)


def forge_body2(
    model: bytes = b"\x04none" + bytes(16),
    codec: bytes = codec2(),
    entries: list[bytes] = (),
    entry_count: int | None = None,
    checksums: bytes | None = None,
    streams: list[bytes] = (),
    stream_count: int | None = None,
    raw_entry_count: bytes | None = None,
) -> bytes:
    entry_count = len(entries) if entry_count is None else entry_count
    stream_count = len(streams) if stream_count is None else stream_count
    checksums = bytes(16 * len(entries)) if checksums is None else checksums
    count = varint(entry_count) if raw_entry_count is None else raw_entry_count
    table = count + b"".join(entries) + checksums
    return model + codec + table + varint(stream_count) + b"".join(streams)


def forge2(body: bytes, payload: bytes = b"", version: int = 2, flags: int = 0, writer=None) -> bytes:
    writer = Header().writer if writer is None else writer
    lead = vz.MAGIC + struct.pack("<HB", version, flags) + b"".join(varint(v) for v in writer)
    for sizes in range(2, 21):  # the size varints' own length counts in the sizes
        header_size = len(lead) + sizes + 4 + len(body) + 4
        file_size = header_size + len(payload) + 4
        tail = varint(file_size) + varint(header_size)
        if len(tail) == sizes:
            break
    preamble = lead + tail
    head = preamble + struct.pack("<I", zlib.crc32(preamble)) + body
    head += struct.pack("<I", zlib.crc32(head))
    data = head + payload
    return data + struct.pack("<I", zlib.crc32(data))


def entry2(count=1, height=2, width=2, mode=1, coder=1, flags=0, extra=b"") -> bytes:
    return varint(count) + varint(height) + varint(width) + bytes([mode, coder, flags]) + extra


def stream2(image_count=1, words=2, fillers=0) -> bytes:
    return varint(image_count) + varint(words) + varint(fillers)
