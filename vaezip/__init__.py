"""vaezip: lossless image compression with a VAE and bits-back ANS coding.

Importing this package is cheap: it pulls in neither torch nor numba. The
layers import one way only: rans <- codecs <- bits-back <- api <- cli.
"""

__version__ = "0.2.0"
