"""``vaezip models``: the model zoo."""

from __future__ import annotations

import click

from vaezip.cli._common import one_line_errors


@click.command()
def models():
    """List the models in the zoo: name, input shape, likelihood, test bits/dim, sha256 prefix.

    \b
    Example:
      vaezip models
    """
    with one_line_errors():
        from vaezip.models import zoo

        infos = zoo.list_models()
        retired = zoo.read_retired()
    if not infos:
        click.echo(f"no models in {zoo.models_dir()}")
    else:
        _table(infos)
    kept = [f"{name} {info.sha256[:12]}" for name in sorted(retired) for info in retired[name]]
    if kept:
        click.echo(f"retired weights, kept to decode older files: {', '.join(kept)}")


def _table(infos) -> None:
    click.echo(f"{'name':14} {'input':8} {'arch':14} {'data':16} {'test -ELBO':>10} {'test IS (K)':>14}  sha256")
    for m in infos:
        shape = f"{m.config.get('width')}x{m.config.get('height')}"
        elbo = m.rates.get("test_neg_elbo_bpd")
        is_ = m.rates.get("test_is_bpd")
        k = m.rates.get("importance_samples", "?")
        click.echo(f"{m.name:14} {shape:8} {m.arch:14} {m.dataset:16} "
                   f"{'-' if elbo is None else f'{elbo:.4f}':>10} {'-' if is_ is None else f'{is_:.4f} ({k})':>14}  "
                   f"{m.sha256[:12]}")
