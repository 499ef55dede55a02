"""``vaezip bench``: the rate report of a data set, beside PNG, WebP, JPEG XL, xz, brotli and zstd."""

from __future__ import annotations

import json
import shlex
import sys
import threading
from pathlib import Path

import click

from vaezip.cli._common import one_line_errors, write_atomically


def _command(dataset, model, limit, particles, estimate_samples, baselines, json_path, plot_path,
             estimator="bb-cis", streams=None) -> str:
    """The command line that reproduces this run, recorded in the JSON."""
    words = ["vaezip", "bench", dataset]
    options = (("--model", model), ("--limit", limit), ("--particles", particles if particles != 1 else None),
               ("--estimator", estimator if estimator != "bb-cis" else None), ("--streams", streams),
               ("--estimate-samples", estimate_samples), ("--baselines", None if baselines == "all" else baselines),
               ("--json", json_path), ("--plot", plot_path))
    for flag, value in options:
        if value is not None:
            words += [flag, str(value)]
    return shlex.join(words)


class _Bar:
    """A tqdm bar on stderr that appears after one second and then ticks twice a second.

    The ticking (a daemon thread calling ``refresh``) keeps the elapsed time
    moving during long single steps (compress, decompress), which report no
    progress of their own.
    """

    def __init__(self, description: str, total: int | None):
        from tqdm import tqdm

        self._bar = tqdm(total=total, desc=description, file=sys.stderr, leave=False, delay=1.0,
                         unit="img" if total and total > 1 else "step")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True)
        self._thread.start()

    def _tick(self) -> None:
        if self._stop.wait(1.0):
            return
        while not self._stop.is_set():
            self._bar.refresh()
            self._stop.wait(0.5)

    def update(self, n: int = 1) -> None:
        self._bar.update(n)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._bar.close()


def _progress_factory(show: bool):
    """Progress bars on stderr when ``show``; otherwise the silent factory."""
    from vaezip import bench

    return _Bar if show else bench.quiet


def _check_plot_dependency(plot_path) -> None:
    if plot_path is None:
        return
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise click.ClickException(
            "--plot needs matplotlib, which is not installed: pip install matplotlib (or 'vaezip[bench]')"
        ) from None


@click.command()
@click.argument("dataset", default="sample", required=False)
@click.option("--model", help="Zoo model ('none': the model-free coder) [default: chosen from the images, "
                              "as compress does].")
@click.option("--limit", type=click.IntRange(1), help="Bench only the first N images.")
@click.option("--particles", default=1, show_default=True, type=click.IntRange(1, 4096),
              help="Importance-sampled bits-back with K particles: rates approach -log q(x) "
                   "[the estimate then defaults to K samples].")
@click.option("--estimator", default="bb-cis", show_default=True, type=click.Choice(["bb-cis", "bb-is"]),
              help="With K > 1: coupled particles from one shared draw (bb-cis) or K independent ones (bb-is).")
@click.option("--streams", type=click.IntRange(1, 8),
              help="Streams of the archive [default: as compress, one per 600,000 expected bits, a power of two, "
                   "at most 8].")
@click.option("-k", "--estimate-samples", type=click.IntRange(0),
              help="Samples K of the importance-sampled -log q(x) estimate (0: no estimates) "
                   "[default: 100 for up to 1000 images, 16 above].")
@click.option("--baselines", default="all", show_default=True,
              help="Comma-separated subset of png,webp,jxl,xz,brotli,zstd; 'all' or 'none'.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the report as JSON to FILE ('-': stdout, instead of the table).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Write a PNG plot: per-image bits vs -log q(x), and bits/dim per codec (needs matplotlib).")
def bench(dataset, model, limit, particles, estimator, streams, estimate_samples, baselines, json_path, plot_path):
    """Compress and decompress a data set with vaezip and report the rates beside other codecs.

    DATASET is a named split (sample, sample-fashion, mnist-test,
    mnist-bin-test, fashion-test, ...) or a path (a directory of PNGs, an
    .npz or .npy, an IDX file) [default: sample, the shipped 100 digits].
    The images are coded into one archive through the same code as
    `vaezip compress`, decoded as `vaezip decompress` does, and every image
    is checked to come back exact (if one does not: one error line, exit 1).

    Reported: bits/dim of the whole archive, the first-image overhead, the
    model's -ELBO and importance-sampled -log q(x) and the gaps to them,
    compress and decompress speed, peak memory; and, on the same images, PNG,
    WebP and JPEG XL lossless (per image and as one mosaic) and xz, brotli
    and zstd over the raw bytes, each with its ratio to vaezip. Codecs that
    are not installed are listed as skipped. A data set no zoo model fits is
    an error that names the zoo's shapes; --model none benches the
    model-free coder instead. docs/bench.md documents every figure and the
    JSON.

    \b
    Example:
      vaezip bench                                   # shipped sample, shipped model
      vaezip bench mnist-test --json bench.json --plot bench.png
      vaezip bench mnist-bin-test --particles 64    # importance-sampled bits-back
      vaezip bench digits.npz --limit 500 --baselines png,xz
    """
    _check_plot_dependency(plot_path)
    to_stdout = json_path == "-"
    command = _command(dataset, model, limit, particles, estimate_samples, baselines, json_path, plot_path,
                       estimator, streams)
    options = dict(model=model, limit=limit, particles=particles, estimate_samples=estimate_samples,
                   estimator=estimator, streams=streams, command=command, per_image_bits=plot_path is not None)
    with one_line_errors():
        record, per_image = _run(dataset, baselines, not to_stdout and sys.stderr.isatty(), options)
        text = _write_outputs(record, per_image, json_path, plot_path, to_stdout)
    if to_stdout:
        click.echo(text, nl=False)
    else:
        _print_table(record, json_path, plot_path)


def _run(dataset: str, baselines: str, show: bool, options: dict) -> tuple[dict, dict]:
    """``vaezip.bench.run`` with progress bars when ``show``; its own errors become one ``Error:`` line."""
    from vaezip import bench as bench_lib
    from vaezip.datasets import DatasetError

    try:
        names = bench_lib.parse_baselines(baselines)
        return bench_lib.run(dataset, baseline_names=names, progress=_progress_factory(show), **options)
    except (bench_lib.BenchError, DatasetError) as error:
        raise click.ClickException(str(error).splitlines()[0]) from None


def _write_outputs(record: dict, per_image: dict, json_path, plot_path, to_stdout: bool) -> str:
    """The record as JSON text, written to ``json_path`` (a file) and the plot to ``plot_path``, when given."""
    from vaezip import bench as bench_lib

    text = json.dumps(record, indent=2) + "\n"
    if json_path is not None and not to_stdout:
        write_atomically(Path(json_path), text.encode(), force=True)
    if plot_path is not None:
        bench_lib.plot(record, per_image, Path(plot_path))
    return text


def _print_table(record: dict, json_path, plot_path) -> None:
    from vaezip.bench import format_report

    click.echo(format_report(record))
    for label, path in (("JSON", json_path), ("plot", plot_path)):
        if path is not None:
            click.echo(f"wrote {label} to {path}")
