"""``train(options)``: the whole pipeline of ``vaezip train`` (see ``vaezip.models.train``)."""

from __future__ import annotations

import re

import torch

from vaezip.models import zoo
from vaezip.models.train.data import default_test_spec, load_images, needs_binarizing, split_validation
from vaezip.models.train.loop import fit, model_config
from vaezip.models.train.options import TrainError, TrainOptions
from vaezip.models.train.publish import initialize, measure, publish, publish_integer_network
from vaezip.models.vae import VAE


def train(options: TrainOptions) -> zoo.ModelInfo:
    """Run the whole pipeline (see the module docstring); returns the registry entry."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", options.name):
        raise TrainError(f"model name {options.name!r}: use letters, digits, '.', '_' and '-'")
    torch.set_num_threads(options.threads)
    torch.manual_seed(options.seed)
    directory = options.models_dir or zoo.models_dir()
    if options.name in zoo.read_registry(directory) and not options.force:
        raise TrainError(f"model {options.name!r} is already registered in {directory}; "
                         "pick another name or pass --force")
    images = load_images(options.dataset)
    config = model_config(options, images)
    test_spec = options.test or default_test_spec(options.dataset)
    test_images = load_images(test_spec) if test_spec else None
    train_images, val_images = split_validation(images, options.val_fraction, options.seed)
    model = VAE(config)
    if options.init:
        options.init_sha256 = initialize(model, options.init, directory).sha256
    state, best = fit(model, train_images, val_images, options, config)
    model.load_state_dict(best)
    if test_images is None:
        test_images, test_split = val_images, "the validation split (no test split given)"
    else:
        test_split = f"`{test_spec}`"
    result = measure(model, test_images, options)
    binarized = (", binarized dynamically (P(1) = v/255, fresh bits each epoch)"
                 if needs_binarizing(images, config.n_values) else "")
    split = {"train": len(train_images), "val": len(val_images), "binarized": binarized}
    publish(model, options, state, result, test_split, split)
    return publish_integer_network(options, train_images, test_images, config.n_values)
