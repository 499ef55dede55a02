"""``vaezip train``: train a VAE and add it to the model zoo."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

ARCH_HELP = "bernoulli, bernoulli-ar, bernoulli-mlp, logistic, logistic-ar"


def parse_overrides(pairs: tuple[str, ...]) -> dict:
    """``("channels=16", "head=false")`` -> ``{"channels": 16, "head": False}``."""
    overrides = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--set")
        lowered = text.lower()
        if lowered in ("true", "false"):
            value = lowered == "true"
        else:
            try:
                value = int(text)
            except ValueError:
                try:
                    value = float(text)
                except ValueError:
                    value = text
        overrides[key] = value
    return overrides


def command_line(ctx: click.Context) -> str:
    """The full command, every option spelled out, so the card reproduces the run."""
    params = ctx.params
    words = ["vaezip", "train", params["dataset"], "--arch", params["arch"], "-o", params["name"]]
    for option in ("epochs", "batch_size", "lr", "seed", "latent_dim", "val_fraction",
                   "patience", "threads", "test", "importance_samples", "time_limit", "init"):
        if params[option] is not None:
            words += [f"--{option.replace('_', '-')}", str(params[option])]
    for pair in params["overrides"]:
        words += ["--set", pair]
    return shlex.join(words)


@click.command()
@click.argument("dataset")
@click.option("--arch", required=True, help=f"Network and likelihood: {ARCH_HELP}.")
@click.option("-o", "--name", required=True, help="Model name in the zoo.")
@click.option("--epochs", default=50, show_default=True, type=click.IntRange(1))
@click.option("--batch-size", default=128, show_default=True, type=click.IntRange(1))
@click.option("--lr", default=1e-3, show_default=True, type=click.FloatRange(min=0, min_open=True))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--latent-dim", default=None, type=click.IntRange(1),
              help="Latent dimensions [default: the arch's].")
@click.option("--resume", is_flag=True, help="Continue from checkpoints/NAME/last.pt.")
@click.option("--val-fraction", default=0.1, show_default=True, type=float,
              help="Share of DATASET held out for validation (seeded).")
@click.option("--patience", default=5, show_default=True, type=click.IntRange(1),
              help="Stop after this many epochs without a better validation bpd.")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1),
              help="Torch threads.")
@click.option("--test", default=None,
              help="Test split for the card [default: DATASET with -train -> -test].")
@click.option("--importance-samples", "-k", default=100, show_default=True,
              type=click.IntRange(1), help="K of the importance-sampled estimate on the card.")
@click.option("--time-limit", default=None, type=click.FloatRange(min=0, min_open=True),
              help="Stop training after this many minutes.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a network setting (channels, head_hidden, mixtures, ...).")
@click.option("--checkpoint-dir", default="checkpoints", show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a registered model of the same name.")
@click.option("--init", default=None, metavar="MODEL[@SHA256PREFIX]",
              help="Start from these zoo weights (current, or retired with @prefix) with a fresh "
                   "optimizer; their config must be this run's.")
@click.pass_context
def train(ctx: click.Context, dataset, arch, name, epochs, batch_size, lr, seed, latent_dim,
          resume, val_fraction, patience, threads, test, importance_samples, time_limit,
          overrides, checkpoint_dir, force, init) -> None:
    """Train a VAE on DATASET and add it to the model zoo.

    DATASET is a named split (fashion-train, mnist-train, mnist-bin-train)
    or a path that vaezip.datasets can load. Writes models/NAME-<sha256>.pt,
    registers it in models/zoo.json, and writes models/NAME.md; the models
    directory is $VAEZIP_MODELS if set.

    \b
    Example:
      vaezip train mnist-train --arch logistic-ar -o mnist --epochs 30
      vaezip train mnist-train --arch bernoulli-ar -o mnist-bin --test mnist-bin-test
    """
    import torch  # noqa: F401  (heavy imports stay inside the command)

    from vaezip.models import zoo
    from vaezip.models.train import TrainError, TrainOptions, train as run_training

    options = TrainOptions(
        dataset=dataset, arch=arch, name=name, epochs=epochs, batch_size=batch_size, lr=lr,
        seed=seed, latent_dim=latent_dim, resume=resume, val_fraction=val_fraction,
        patience=patience, threads=threads, test=test, importance_samples=importance_samples,
        overrides=parse_overrides(overrides), time_limit_minutes=time_limit,
        checkpoint_dir=checkpoint_dir, force=force, init=init, command=command_line(ctx))
    try:
        info = run_training(options)
    except (TrainError, zoo.ModelError) as error:
        raise click.ClickException(str(error)) from None
    rates = info.rates
    click.echo(f"{info.name}: {info.file} (sha256 {info.sha256[:16]}...)")
    click.echo(f"test -ELBO {rates['test_neg_elbo_bpd']:.4f} bpd, importance-sampled "
               f"{rates['test_is_bpd']:.4f} bpd (K={rates['importance_samples']}) "
               f"on {rates['test_images']} images")
