"""What the .vz container costs around the coded pixels (format version 3).

One-image files (docs/format.md, "One-image files"): the bytes of a file of
one picture coded by ``api.compress`` minus its payload (the stream's
words), with and without a name, beside the picture's PNG. Name tables
(docs/format.md, "Name table"): what the names of 10,000 numbered and of
10,000 random hex-named files cost, beside ``xz -9`` of the same names
joined by newlines (``lzma.compress(..., preset=9)``, the .xz container).

    python benchmarks/container_overhead.py
"""

from __future__ import annotations

import io
import lzma
import random

import numpy as np

from vaezip import api
from vaezip import format as vz
from vaezip.format.names import pack_names
from vaezip.images import Picture, write_png

PICTURES = {
    "1x1 grey": (np.array([[7]], np.uint8), "L"),
    "1x3000 grey gradient": ((np.arange(3000) % 256).astype(np.uint8)[None, :], "L"),
    "16x16 RGB, flat": (np.full((16, 16, 3), 9, np.uint8), "RGB"),
    "16x16 RGB, noise": (np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8), "RGB"),
}


def one_image(pixels: np.ndarray, mode: str, name: str | None) -> tuple[int, int, str, int]:
    """File bytes, overhead (file minus payload), coder, and the picture's PNG bytes."""
    picture = Picture(pixels, mode, name=name)
    png = io.BytesIO()
    write_png(picture, png)
    data, _ = api.compress([picture])
    contents = vz.read_header(data)
    payload = 4 * sum(stream.word_count for stream in contents.streams)
    return len(data), len(data) - payload, vz.CODERS[contents.images[0].coder], len(png.getvalue())


def name_figures() -> None:
    draw = random.Random(0)
    for label, names in [("00000.png ... 09999.png", [f"{i:05d}.png" for i in range(10_000)]),
                         ("10,000 random 16-hex-digit names", [f"{draw.getrandbits(64):016x}.png"
                                                               for _ in range(10_000)])]:
        xz = len(lzma.compress("\n".join(names).encode("utf-8"), preset=9))
        raw = sum(len(name) + 1 for name in names)
        print(f"{label:34} name table {len(pack_names(names)):7,d} B   xz -9 {xz:7,d} B   stored {raw:7,d} B")


def main() -> None:
    print(f"{'one-image file':22} {'name':10} {'file':>6} {'overhead':>9} {'coder':>11} {'PNG':>6}")
    for label, (pixels, mode) in PICTURES.items():
        for name in (None, "image.png"):
            size, overhead, coder, png = one_image(pixels, mode, name)
            print(f"{label:22} {name or '-':10} {size:6d} {overhead:9d} {coder:>11} {png:6d}")
    name_figures()


if __name__ == "__main__":
    main()
