"""The tiling rule: how a picture larger than the model's input is cut into tiles.

A plane of ``height x width`` samples is cut into a grid of
``ceil(height / tile_height) x ceil(width / tile_width)`` tiles, listed in
raster order (row of tiles by row of tiles, left to right). Tile ``(r, c)``
covers rows ``[r * tile_height, min((r + 1) * tile_height, height))`` and the
columns likewise, so the tiles in the last row and column may be smaller:
only a *full* tile (exactly ``tile_height x tile_width``) can be coded by the
model; a smaller one never is, and nothing is ever padded. docs/format.md
("What a stream holds") says how the tiles of a picture are coded.
"""

from __future__ import annotations

import numpy as np


def tile_bounds(height: int, width: int, tile_height: int, tile_width: int) -> list[tuple[int, int, int, int]]:
    """``(top, bottom, left, right)`` of each tile, in raster order."""
    if min(height, width, tile_height, tile_width) < 1:
        raise ValueError("sizes must be positive")
    return [(top, min(top + tile_height, height), left, min(left + tile_width, width))
            for top in range(0, height, tile_height) for left in range(0, width, tile_width)]


def is_full(bounds: tuple[int, int, int, int], tile_height: int, tile_width: int) -> bool:
    top, bottom, left, right = bounds
    return bottom - top == tile_height and right - left == tile_width


def split(plane: np.ndarray, bounds: list[tuple[int, int, int, int]]) -> list[np.ndarray]:
    """The tiles of a 2-D ``plane`` (views)."""
    return [plane[top:bottom, left:right] for top, bottom, left, right in bounds]


def assemble(tiles: list[np.ndarray], bounds: list[tuple[int, int, int, int]], height: int, width: int,
             dtype=np.uint8) -> np.ndarray:
    """The plane the ``tiles`` (as ``split`` made them) came from."""
    plane = np.empty((height, width), dtype=dtype)
    for tile, (top, bottom, left, right) in zip(tiles, bounds):
        plane[top:bottom, left:right] = tile
    return plane
