"""The orchestration under ``vaezip.api``: what codes each picture, and how streams become a file.

- ``settings``: the codec settings every archive uses, ``CodingError``.
- ``plan``: which zoo model and which coder (VAE, per-tile, model-free) for
  each picture, and how many streams (the rules are in its docstring).
- ``layout``: runs of pictures in streams, image-table entries.
- ``coders``: the per-stream coders (bits-back, tiles, model-free planes,
  stored PNG), built once per archive.
- ``encoding`` and ``decoding``: one stream each way, the header and tables,
  the checks after decoding.
- ``threads``: streams on a thread pool, torch pinned to one thread.
- ``report``: what ``compress`` reports.

It sits above ``vaezip.models``, ``vaezip.codecs`` and ``vaezip.format`` and
below ``vaezip.api``; a distributed backend that codes streams elsewhere
would use ``encoding`` and ``decoding`` as they are.
"""
