"""The compress side: one run of pictures into one stream, then the archive's header and tables."""

from __future__ import annotations

import numpy as np

from vaezip import format as vz
from vaezip.images import Picture
from vaezip.pipeline.coders import Coders
from vaezip.pipeline.layout import Run, entry_pictures, image_entries
from vaezip.pipeline.settings import LATENT_BITS, LIKELIHOOD_PRECISION, POSTERIOR_PRECISION


def encode_run(coding: Coders, run: Run, pictures: list[Picture], tiles: dict[int, bytes],
               sources: list[bytes | None] | None, sizes: list[float]) -> tuple[vz.Stream, int]:
    """The stream of ``run`` and the coder its pictures ended up with (a model-free picture the
    model-free coder would make larger than its PNG is stored as that PNG); each picture's
    stream bits go to ``sizes``."""
    from vaezip.rans import Message

    msg = Message()
    if run.coder == vz.CODER_VAE:
        part = pictures[run.start:run.stop]
        run_sizes = [0.0] * len(part)
        images = np.stack([p.pixels[:, :, 0] for p in part]).astype(np.int64)
        coding.push_vae(msg, images, run_sizes)
        sizes[run.start:run.stop] = run_sizes
        return vz.Stream(msg.to_words(), msg.fillers, len(part)), run.coder
    picture = pictures[run.start]
    if run.coder == vz.CODER_PER_TILE:
        coding.push_tiles(msg, picture, tiles[run.start])
    else:
        coding.push_planar(msg, picture)
    coder = run.coder
    blob = _png_bytes(picture, sources[run.start] if sources else None)
    if 8 * len(blob) + 32 < msg.num_bits():  # the PNG as it is codes smaller
        msg = Message()
        coding.push_stored(msg, blob)
        coder = vz.CODER_STORED
    sizes[run.start] = msg.num_bits()
    return vz.Stream(msg.to_words(), msg.fillers, 1), coder


def _png_bytes(picture: Picture, source: bytes | None) -> bytes:
    if source is not None:
        return source
    import io

    from vaezip.images import write_png

    buffer = io.BytesIO()
    write_png(picture, buffer)
    return buffer.getvalue()


def write_archive(pictures: list[Picture], coders: list[int], tiles: dict[int, bytes], streams: list[vz.Stream],
                  coding: Coders, estimator: int) -> bytes:
    """The .vz bytes of the coded ``streams``: header, image table, checksums (docs/format.md)."""
    entries = image_entries(pictures, coders, tiles)
    header = vz.Header(
        model=coding.model_name,
        model_sha256=vz.weights_id(coding.sha256, coding.version),
        likelihood_precision=LIKELIHOOD_PRECISION,
        posterior_precision=POSTERIOR_PRECISION,
        latent_bits=LATENT_BITS,
        batch_size=coding.batch_size,
        estimator=estimator,
        particles=coding.particles,
        version=coding.version,
    )
    if coding.model_name == vz.MODEL_FREE and coding.version >= 3:  # codec parameters a file without a model
        header = vz.Header(version=coding.version)                      # leaves out of its one-image form
    checksums = [vz.pixel_checksum([p.pixels for p in group]) for _, group in entry_pictures(entries, pictures)]
    return vz.write(vz.Archive(header, entries, streams, checksums))
