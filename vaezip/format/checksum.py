"""The pixel checksum of an image entry (docs/format.md, "Pixel checksum").

The first 16 bytes of sha256 over each image's canonical layout: height,
width, channels and sample size as a 13-byte prefix, then the samples in
C order, one byte each up to 8 bits and two (little-endian) above.
"""

from __future__ import annotations

import hashlib
import struct

import numpy as np

from vaezip.format.records import CHECKSUM_SIZE


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
