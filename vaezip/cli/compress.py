"""``vaezip compress``: PNG files in, one .vz file out."""

from __future__ import annotations

import json
from pathlib import Path

import click

from vaezip.cli._common import inside, one_line_errors, refuse_to_clobber, write_atomically
from vaezip.cli.progress import bar, wanted


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


def _output(paths: tuple[Path, ...], output: str | None, directory: Path | None) -> Path:
    """The archive's path: ``-o`` naming a file, or INPUT.vz beside the one input or inside the
    ``directory`` ``-o`` names (an existing one or a path ending in /)."""
    if output is not None and directory is None:
        return Path(output)
    if len(paths) == 1 and (directory is not None or not paths[0].is_dir()):
        name = (paths[0].resolve().name or "images") + ".vz"
        return (directory or paths[0].parent) / name
    if directory is not None:
        raise click.ClickException(f"several inputs: name the archive inside {directory}, e.g. "
                                   f"-o {directory / 'images.vz'}")
    raise click.ClickException("several images go into one archive: name it with -o ARCHIVE.vz")


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(),
              help="Output file, or a directory to write INPUT.vz in (an existing one, or a path ending in /) "
                   "[default: INPUT.vz beside a single input].")
@click.option("--model", help="Zoo model to use ('none': model-free) [default: chosen from the images].")
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(1, 65536),
              help="Images per network batch (stored in the file).")
@click.option("-k", "--estimate-samples", default=16, show_default=True, type=click.IntRange(0),
              help="Samples K of the report's -ELBO and importance-sampled -log q(x), estimated on a seeded "
                   "random subset of the VAE-coded images (up to 200, under 10 % of the coding time) "
                   "with its standard error (0: no estimates).")
@click.option("--estimate-all", is_flag=True,
              help="Estimate every VAE-coded image (slow: about K codings each); an image the model-free "
                   "coder codes smaller than its -ELBO then leaves the VAE.")
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
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (no progress bar).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar (it shows on a terminal for work over 2 s).")
def compress(inputs, output, model, batch_size, estimate_samples, estimate_all, particles, estimator, streams,
             format_version, force, as_json, quiet):
    """Compress PNG images (files or directories of PNGs) into one .vz file.

    Prints, per input and in total: bytes, bits per dimension achieved (the
    whole file, every overhead included), the model's -ELBO and
    importance-sampled -log q(x) estimate ("-" for an image outside the
    estimated subset; the total is the subset's mean +- its standard error),
    and the PNG size for reference.

    \b
    Example:
      vaezip compress digit.png                 # writes digit.png.vz
      vaezip compress scans/ -o scans.vz --json
      vaezip compress scans/ -o archives/       # writes archives/scans.vz
      vaezip compress digits/ -o digits.vz --particles 64
    """
    show = wanted(quiet, as_json)
    with one_line_errors():
        from vaezip import api

        files = _inputs(inputs)
        directory = None if output is None else inside(output)
        target = _output(inputs, output, directory)
        refuse_to_clobber(target, force)
        pictures, sources = _read(files, show)
        with bar(len(pictures), "images", "compressing", show) as progress:
            data, report = api.compress(pictures, model=model, batch_size=batch_size,
                                        estimate_samples=estimate_samples, sources=sources,
                                        particles=particles, estimator=estimator, streams=streams,
                                        version=format_version, progress=progress.update,
                                        estimate_images=len(pictures) if estimate_all else None)
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        write_atomically(target, data, force)
    _show(report, [path.stat().st_size for path in files], target, as_json)


def _show(report, png_bytes: list[int], target: Path, as_json: bool) -> None:
    if as_json:
        record = report.to_dict()
        record["output"] = str(target)
        record["png_bytes"] = sum(png_bytes)
        for entry, size in zip(record["pictures"], png_bytes):
            entry["png_bytes"] = size
        click.echo(json.dumps(record, indent=2))
        return
    _print_report(report, png_bytes, target)


def _read(files: list[Path], show: bool) -> tuple[list, list[bytes]]:
    """The pictures of the PNG ``files``, named after them, and the files' bytes."""
    from vaezip.images import read_png

    pictures, sources = [], []
    with bar(len(files), "files", "reading", show) as progress:
        for path in files:
            source = path.read_bytes()
            picture = read_png(source)
            picture.name = path.name
            pictures.append(picture)
            sources.append(source)
            progress.update(1)
    return pictures, sources


def _fmt(value, digits=4):
    return "-" if value is None else f"{value:.{digits}f}"


def _with_se(mean, se) -> str:
    return _fmt(mean) if se is None else f"{mean:.4f}±{se:.4f}"


def _print_report(report, png_bytes, target) -> None:
    k = report.estimate_samples
    click.echo(f"{'image':24} {'coder':10} {'bytes':>9} {'bpd':>8} {'-ELBO':>15} {f'IS(K={k})':>15} "
               f"{'PNG bytes':>10}")
    for picture, png in zip(report.pictures, png_bytes):
        elbo = None if picture.neg_elbo_bits is None else picture.neg_elbo_bits / picture.dims
        is_ = None if picture.is_bits is None else picture.is_bits / picture.dims
        click.echo(f"{picture.name[:24]:24} {picture.coder:10} {picture.bits / 8:9.1f} "
                   f"{picture.bits / picture.dims:8.4f} {_fmt(elbo):>15} {_fmt(is_):>15} {png:10d}")
    click.echo(f"{'total':24} {report.model[:10]:10} {report.file_bytes:9d} {report.bpd:8.4f} "
               f"{_with_se(report.neg_elbo_bpd, report.neg_elbo_se):>15} {_with_se(report.is_bpd, report.is_se):>15} "
               f"{sum(png_bytes):10d}")
    estimates = report.estimates()
    if estimates["images"]:
        click.echo(f"estimates: {estimates['images']} of the {estimates['of']} VAE-coded images (seed "
                   f"{estimates['seed']}, K={k}); totals are their mean ± its standard error")
    click.echo(f"wrote {target} ({report.file_bytes} bytes, {report.bpd:.4f} bits/dim, "
               f"{report.seconds:.2f} s); per-image bytes are shares of the file")
