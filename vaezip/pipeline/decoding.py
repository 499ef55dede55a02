"""The decompress side: the coders a file names, one stream back into pictures, the checks."""

from __future__ import annotations

import numpy as np

from vaezip import format as vz
from vaezip.images import Picture
from vaezip.pipeline.coders import Coders
from vaezip.pipeline.layout import entry_pictures
from vaezip.pipeline.settings import (
    LATENT_BITS,
    LIKELIHOOD_PRECISION,
    NOT_HERE,
    POSTERIOR_PRECISION,
    CodingError,
)


def decode_stream(coding: Coders, stream: vz.Stream, carried: list[tuple[vz.ImageEntry, str]]) -> list[np.ndarray]:
    """The pixels (H, W, C) of the pictures ``stream`` carries (``carried``: their entries and names)."""
    from vaezip.rans import Message

    kinds = {entry.coder for entry, _ in carried}
    if len(kinds) != 1:
        raise CodingError("a stream mixes coders, which this vaezip version never writes: corrupt file")
    msg = Message.from_words(stream.words)
    out = _pop_pictures(coding, msg, kinds.pop(), carried)
    msg.finish(stream.fillers)
    return out


def _pop_pictures(coding: Coders, msg, kind: int, carried: list[tuple[vz.ImageEntry, str]]) -> list[np.ndarray]:
    from vaezip.rans import FormatError

    entry = carried[0][0]
    if kind == vz.CODER_VAE:
        key = coding.model.shape + ("1" if coding.model.n_values == 2 else "L",)
        if any((e.height, e.width, e.mode) != key for e, _ in carried):
            raise CodingError("a VAE-coded image does not have the model's shape and mode: corrupt file")
        try:
            return list(coding.pop_vae(msg, len(carried))[:, :, :, None])
        except FormatError as error:
            raise CodingError(f"{error}. {NOT_HERE}") from None
    if len(carried) != 1:
        raise CodingError("a stream layout this vaezip version never writes: corrupt file")
    if kind == vz.CODER_MODEL_FREE:
        return [coding.pop_planar(msg, entry.height, entry.width, entry.channels, entry.bit_depth)]
    if kind == vz.CODER_PER_TILE:
        if entry.mode not in ("1", "L") or (entry.bit_depth == 1) != (coding.model.n_values == 2):
            raise CodingError("a per-tile image is not of the model's pixel kind: corrupt file")
        return [coding.pop_tiles(msg, entry.height, entry.width, entry.bit_depth, entry.tile_coders)]
    if kind == vz.CODER_STORED:
        return [_stored_pixels(coding.pop_stored(msg), entry)]
    raise CodingError("a stream layout this vaezip version never writes: corrupt file")


def check_checksums(archive: vz.Archive, pictures: list[Picture]) -> None:
    """Every image entry's decoded pixels against its stored checksum."""
    for index, ((_, group), checksum) in enumerate(zip(entry_pictures(archive.images, pictures), archive.checksums)):
        if vz.pixel_checksum([p.pixels for p in group])[: len(checksum)] != checksum:  # 8 bytes in a one-image file
            raise CodingError(
                f"decoded pixels of image entry {index} do not match their checksum. {NOT_HERE}"
            )


def _stored_pixels(blob: bytes, entry: vz.ImageEntry) -> np.ndarray:
    from vaezip.images import ImageError, read_png

    try:
        picture = read_png(blob)
    except ImageError:
        raise CodingError("a stored PNG in the file does not decode: corrupt file") from None
    if (picture.height, picture.width, picture.mode) != (entry.height, entry.width, entry.mode):
        raise CodingError("a stored PNG does not match its image entry: corrupt file")
    return picture.pixels


def decoding_side(header: vz.Header, uses_vae: bool) -> Coders:
    if not uses_vae:
        return Coders(vz.MODEL_FREE, header.batch_size)
    from vaezip.models import zoo

    try:
        info = zoo.find_weights(
            header.model, lambda sha256: vz.weights_id(bytes.fromhex(sha256), header.version) == header.model_sha256,
            integer=header.version >= 3)
    except zoo.ModelError:
        try:
            current = zoo.get_info(header.model)
        except zoo.ModelError:
            raise CodingError(
                f"this file was compressed with model '{header.model}', which is not in this vaezip's model zoo"
            ) from None
        has = (current.integer_sha256 if header.version >= 3 else current.sha256)[:12] or "none"
        raise CodingError(
            f"this file was compressed with other weights of model '{header.model}' "
            f"(sha256 {header.model_sha256.hex()[:12]}..., the zoo has {has}...)"
        ) from None
    if (header.latent_bits, header.posterior_precision, header.likelihood_precision) != (
        LATENT_BITS, POSTERIOR_PRECISION, LIKELIHOOD_PRECISION
    ):
        raise CodingError("this file uses codec settings this vaezip version does not decode")
    return Coders(header.model, header.batch_size, header.particles, header.estimator == vz.BB_CIS,
                  header.version, info)


def to_picture(entry: vz.ImageEntry, name: str, pixels: np.ndarray) -> Picture:
    if entry.coder == vz.CODER_VAE:  # uint8 values the model's likelihood allows; the header validated
        return Picture.trusted(pixels, entry.mode, name or None, entry.png_bit_depth or None,
                               tuple(entry.transparency) or None)
    palette = None
    if entry.mode == "P":
        palette = np.frombuffer(entry.palette, dtype=np.uint8).reshape(-1, entry.palette_channels).copy()
    dtype = np.uint16 if entry.bit_depth == 16 else np.uint8
    return Picture(pixels.astype(dtype, copy=False), entry.mode, palette, name or None,
                   entry.png_bit_depth or None, tuple(entry.transparency) or None)
