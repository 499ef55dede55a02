"""Exact PNG in, exact PNG out: the pixels vaezip compresses and writes back.

``read_png`` turns a PNG file into a :class:`Picture` (samples as stored, the
mode of docs/format.md, the palette); ``write_png`` writes a Picture to a PNG
that ``read_png`` reads back to an equal Picture. Decisions (docs/format.md,
"Image table", has the modes):

* **PNG only.** Other formats are refused with a one-line :class:`ImageError`
  that names the format (JPEG is lossy at the source; BMP, GIF, TIFF, WebP
  and PNM are refused rather than silently turned into PNG on decompression).
* **Modes.** Grey 1-bit -> ``1`` (samples 0 and 1); grey 2/4/8-bit -> ``L``;
  grey 16-bit -> ``I;16``; grey+alpha -> ``LA`` / ``LA;16``; truecolour ->
  ``RGB`` / ``RGB;16``; truecolour+alpha -> ``RGBA`` / ``RGBA;16``; palette
  (1/2/4/8-bit) -> ``P`` with the palette indices as samples and the palette
  as an (entries, 3) array, or (entries, 4) when the file has a tRNS chunk
  (its alpha values, padded with 255 as PNG says).
* **Bit depth.** "Bit depth equal" means the bit depth of the *mode* (1, 8
  or 16, what the container stores). The PNG header's bit depth is kept as
  well, in ``Picture.png_bit_depth``, and ``write_png`` writes it back when it
  is set: so a 2-bit grey or 4-bit palette file comes back with the same IHDR.
  2- and 4-bit grey samples are held scaled to 0..255 (value * 85 or * 17, the
  PNG rule for reading them as 8-bit), so mode ``L`` always means 8-bit grey.
  Without ``png_bit_depth`` (a Picture from an array or from a .vz file),
  ``write_png`` writes grey ``L`` at 8 bits and a palette at the smallest
  depth its entry count allows (1, 2, 4 or 8 bits: what libpng-based tools
  and Pillow do).
* **Colour-key transparency** (tRNS in a grey or truecolour file) is kept in
  ``Picture.transparency`` (samples on the Picture's scale) and written back.
  Ancillary chunks (gamma, colour profile, text, physical size, time) are not
  kept, and files are written without interlacing: vaezip is lossless for
  pixels, not for metadata or the order of the bytes. A tRNS chunk that PNG
  does not allow where it is (in an image with alpha, after IDAT, longer than
  the palette, of the wrong length) is ignored, as libpng ignores it.
* **Libraries.** The chunk structure (IHDR, PLTE, tRNS, acTL, IEND, every
  critical chunk's CRC) is parsed here before any pixel is decoded, so sizes
  and animation are refused before a byte is allocated for pixels. Pillow
  decodes every kind of PNG whose samples it keeps exactly (all but 16-bit
  grey+alpha and 16-bit colour, which Pillow reduces to 8 bits); those three
  are decoded here (zlib, and a Numba loop for the row filters). Writing is
  always done here (numpy filters and zlib): Pillow cannot write a palette of
  any length at any depth, 16-bit colour, or 2/4-bit grey.

Importing this package is cheap: numba is imported only to decode a 16-bit
colour or grey+alpha PNG.

Where things are: ``picture`` (the Picture, and Pictures from arrays),
``png`` (PNG's own tables), ``read`` (PNG in), ``write`` (PNG out) and
``tiling`` (the tiles a large picture is cut into for a model).
"""

from __future__ import annotations

from vaezip.images.picture import ImageError, Picture, from_array, from_batch
from vaezip.images.png import PNG_SIGNATURE
from vaezip.images.read import read_png
from vaezip.images.write import write_png

__all__ = [
    "ImageError",
    "Picture",
    "read_png",
    "write_png",
    "from_array",
    "from_batch",
    "PNG_SIGNATURE",
]
