"""PNG's own tables (the PNG specification, section 11.2.2): signature, colour types, bit depths."""

from __future__ import annotations

import os
from typing import BinaryIO, Union

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

PathOrFile = Union[str, "os.PathLike[str]", BinaryIO]  # where read_png reads and write_png writes

# (colour type, bit depth) -> mode; the PNG specification's valid combinations
PNG_MODES = {
    (0, 1): "1",
    (0, 2): "L",
    (0, 4): "L",
    (0, 8): "L",
    (0, 16): "I;16",
    (2, 8): "RGB",
    (2, 16): "RGB;16",
    (3, 1): "P",
    (3, 2): "P",
    (3, 4): "P",
    (3, 8): "P",
    (4, 8): "LA",
    (4, 16): "LA;16",
    (6, 8): "RGBA",
    (6, 16): "RGBA;16",
}
# mode -> PNG colour type
COLOUR_TYPES = {"1": 0, "L": 0, "I;16": 0, "RGB": 2, "RGB;16": 2, "P": 3, "LA": 4, "LA;16": 4, "RGBA": 6, "RGBA;16": 6}
PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
