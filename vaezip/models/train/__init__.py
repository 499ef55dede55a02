"""Train a VAE and add it to the model zoo.

``train(options)`` runs the whole pipeline:

1. load the dataset (``vaezip.datasets.load``) and carve a validation split
   from it with the seed;
2. train in float32 with Adam, one checkpoint per epoch in
   ``checkpoints/NAME/`` (``last.pt``; ``--resume`` continues from it),
   early stopping when the validation −ELBO has not improved for
   ``patience`` epochs;
3. measure the best weights in float32 on the test split: −ELBO and the
   importance-sampled −log q(x) in bits per dimension;
4. write ``models/NAME-<sha256[:8]>.pt`` (a state_dict), register it in
   ``models/zoo.json``, write the model card ``models/NAME.md`` and a row in
   ``models/README.md``.

A Bernoulli arch trained on 8-bit images binarizes them dynamically: every
epoch draws fresh bits with P(1) = v / 255; validation and test images are
binarized once, with the seed.

Where things are: ``options`` (what a run is asked to do), ``data``
(loading, splitting, binarizing), ``loop`` (the epochs), ``checkpoints``,
``card`` (the model card and README row), ``publish`` (test rates, weights,
registry; the ``--init`` weights) and ``pipeline`` (``train``).
"""

from __future__ import annotations

from vaezip.models.train.data import as_targets, default_test_spec, load_images, split_validation
from vaezip.models.train.options import TrainError, TrainOptions, TrainState
from vaezip.models.train.pipeline import train
from vaezip.models.train.publish import save_weights

__all__ = [
    "TrainError",
    "TrainOptions",
    "TrainState",
    "train",
    "save_weights",
    "load_images",
    "default_test_spec",
    "split_validation",
    "as_targets",
]
