"""vaezip: lossless image compression with a VAE and bits-back ANS coding.

Importing this package is cheap: it pulls in neither torch nor numba. The
layers import one way only (``tests/test_layout.py``; README, "Layout")::

    rans <- codecs <- models <- pipeline <- api <- bench, cli
                      format <- images <- pipeline;   datasets <- models, bench

``rans`` is the coder, ``codecs`` the distributions and bits-back, ``models``
the networks, training and zoo, ``format`` the .vz container, ``images`` PNG
in and out, ``pipeline`` what codes each picture and how streams make a file,
``api`` compress and decompress, ``cli`` the ``vaezip`` command.
"""

__version__ = "0.3.0"
