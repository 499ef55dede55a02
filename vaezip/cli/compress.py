"""``vaezip compress``: PNG files in, one .vz file out."""

from __future__ import annotations

import json
from pathlib import Path

import click

from vaezip.cli._common import one_line_errors, write_atomically


def _inputs(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() == ".png" and p.is_file())
            if not found:
                raise click.ClickException(f"{path}: no PNG files in this directory")
            files += found
        else:
            files.append(path)
    return files


def _output(files: list[Path], paths: tuple[Path, ...], output: Path | None) -> Path:
    if output is not None:
        return output
    if len(files) == 1 and not paths[0].is_dir():
        return files[0].with_name(files[0].name + ".vz")
    raise click.ClickException("several images go into one archive: name it with -o ARCHIVE.vz")


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Output file [default: INPUT.vz beside a single input].")
@click.option("--model", help="Zoo model to use ('none': model-free) [default: chosen from the images].")
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(1, 65536),
              help="Images per network batch (stored in the file).")
@click.option("-k", "--estimate-samples", default=16, show_default=True, type=click.IntRange(0),
              help="Samples K of the importance-sampled -log q(x) estimate in the report (0: no estimates).")
@click.option("--particles", default=1, show_default=True, type=click.IntRange(1, 4096),
              help="Importance-sampled bits-back with K particles: rates approach -log q(x) (stored in "
                   "the file; decompress needs no flag).")
@click.option("--estimator", default="bb-cis", show_default=True, type=click.Choice(["bb-cis", "bb-is"]),
              help="With K > 1: coupled particles from one shared draw (bb-cis, needs few clean bits) or "
                   "K independent posterior draws (bb-is).")
@click.option("--streams", type=click.IntRange(1, 8),
              help="Independent streams the VAE images are split into (decoded in parallel; each costs its "
                   "first image's latent, ~400 bits) [default: one per 600,000 bits the model expects, "
                   "a power of two, at most 8].")
@click.option("--format-version", default=3, show_default=True, type=click.IntRange(2, 3),
              help="3: integer networks, the file decodes on any machine. 2: vaezip 0.2's float32 networks, "
                   "decodable only where torch's kernels match this machine's (kept for comparisons).")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def compress(inputs, output, model, batch_size, estimate_samples, particles, estimator, streams, format_version,
             force, as_json):
    """Compress PNG images (files or directories of PNGs) into one .vz file.

    Prints, per input and in total: bytes, bits per dimension achieved (the
    whole file, every overhead included), the model's -ELBO and
    importance-sampled -log q(x) estimate, and the PNG size for reference.

    \b
    Example:
      vaezip compress digit.png                 # writes digit.png.vz
      vaezip compress scans/ -o scans.vz --json
      vaezip compress digits/ -o digits.vz --particles 64
    """
    with one_line_errors():
        from vaezip import api

        files = _inputs(inputs)
        target = _output(files, inputs, output)
        if target.exists() and not force:
            raise click.ClickException(f"{target} exists; use --force to overwrite it")
        pictures, sources = _read(files)
        data, report = api.compress(pictures, model=model, batch_size=batch_size,
                                    estimate_samples=estimate_samples, sources=sources,
                                    particles=particles, estimator=estimator, streams=streams,
                                    version=format_version)
        write_atomically(target, data, force)
    png_bytes = [path.stat().st_size for path in files]
    if as_json:
        record = report.to_dict()
        record["output"] = str(target)
        record["png_bytes"] = sum(png_bytes)
        for entry, size in zip(record["pictures"], png_bytes):
            entry["png_bytes"] = size
        click.echo(json.dumps(record, indent=2))
        return
    _print_report(report, png_bytes, target)


def _read(files: list[Path]) -> tuple[list, list[bytes]]:
    """The pictures of the PNG ``files``, named after them, and the files' bytes."""
    from vaezip.images import read_png

    pictures, sources = [], []
    for path in files:
        source = path.read_bytes()
        picture = read_png(source)
        picture.name = path.name
        pictures.append(picture)
        sources.append(source)
    return pictures, sources


def _fmt(value, digits=4):
    return "-" if value is None else f"{value:.{digits}f}"


def _print_report(report, png_bytes, target) -> None:
    k = report.estimate_samples
    click.echo(f"{'image':24} {'coder':10} {'bytes':>9} {'bpd':>8} {'-ELBO':>8} {f'IS(K={k})':>9} {'PNG bytes':>10}")
    for picture, png in zip(report.pictures, png_bytes):
        elbo = None if picture.neg_elbo_bits is None else picture.neg_elbo_bits / picture.dims
        is_ = None if picture.is_bits is None else picture.is_bits / picture.dims
        click.echo(f"{picture.name[:24]:24} {picture.coder:10} {picture.bits / 8:9.1f} "
                   f"{picture.bits / picture.dims:8.4f} {_fmt(elbo):>8} {_fmt(is_):>9} {png:10d}")
    click.echo(f"{'total':24} {report.model[:10]:10} {report.file_bytes:9d} {report.bpd:8.4f} "
               f"{_fmt(report.neg_elbo_bpd):>8} {_fmt(report.is_bpd):>9} {sum(png_bytes):10d}")
    click.echo(f"wrote {target} ({report.file_bytes} bytes, {report.bpd:.4f} bits/dim, "
               f"{report.seconds:.2f} s); per-image bytes are shares of the file")
