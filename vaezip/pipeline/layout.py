"""How an archive's pictures are laid out: runs of pictures in streams, image-table entries.

Pictures are coded in input order. Consecutive pictures with the same coder
form runs; a VAE run is cut into streams (one message each), every other
picture is a stream of its own. Consecutive pictures of one shape, mode,
palette and coder share an image-table entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vaezip import format as vz
from vaezip.images import Picture


@dataclass
class Run:
    """Consecutive pictures (``start:stop``) with one coder."""

    start: int
    stop: int
    coder: int


def split_runs(coders: list[int], vae_streams: int) -> list[Run]:
    """Streams: VAE runs cut into chunks of about ``len / vae_streams`` pictures; one
    stream per other picture (its coder, planar or stored PNG, is decided after coding)."""
    runs, start = [], 0
    for i in range(1, len(coders) + 1):
        if i == len(coders) or coders[i] != coders[start]:
            if coders[start] == vz.CODER_VAE:
                chunks = min(vae_streams, i - start)
                bounds = np.linspace(start, i, chunks + 1).round().astype(int)
                runs += [Run(int(a), int(b), coders[start]) for a, b in zip(bounds[:-1], bounds[1:])]
            else:
                runs += [Run(j, j + 1, coders[start]) for j in range(start, i)]
            start = i
    return runs


def image_entries(pictures: list[Picture], coders: list[int], tiles: dict[int, bytes] | None = None) -> list[vz.ImageEntry]:
    """Image-table entries: consecutive pictures of one shape, mode, palette and coder
    (a per-tile picture is an entry of its own, with its tile coders)."""
    groups: list[tuple[tuple, list[str]]] = []
    for i, (picture, coder) in enumerate(zip(pictures, coders)):
        palette = picture.palette
        key = (*picture.pixels.shape[:2], picture.mode, coder,
               b"" if palette is None else palette.tobytes(), 0 if palette is None else palette.shape[1],
               picture.png_bit_depth or 0, picture.transparency or (),
               (i, tiles[i]) if coder == vz.CODER_PER_TILE else None)
        if groups and groups[-1][0] == key:
            groups[-1][1].append(picture.name or "")
        else:
            groups.append((key, [picture.name or ""]))
    named = any(name for _, names in groups for name in names)
    return [
        vz.ImageEntry(height, width, mode, len(names), coder, palette=palette, palette_channels=channels,
                      names=tuple(names) if named else (), png_bit_depth=bit_depth, transparency=key,
                      tile_coders=per_tile[1] if per_tile else b"")
        for (height, width, mode, coder, palette, channels, bit_depth, key, per_tile), names in groups
    ]


def entry_pictures(entries, pictures):
    start = 0
    for entry in entries:
        yield entry, pictures[start:start + entry.count]
        start += entry.count


def entry_for_each_picture(entries):
    for entry in entries:
        for k in range(entry.count):
            yield entry, (entry.names[k] if entry.names else "")


def stream_pictures(streams) -> list[tuple[int, int]]:
    """``(start, stop)`` of the pictures each stream carries, in order."""
    bounds, start = [], 0
    for stream in streams:
        bounds.append((start, start + stream.image_count))
        start += stream.image_count
    return bounds
