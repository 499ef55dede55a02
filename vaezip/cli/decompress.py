"""``vaezip decompress``: a .vz file in, the original PNGs out."""

from __future__ import annotations

import io
from pathlib import Path

import click

from vaezip.cli._common import inside, one_line_errors, refuse_to_clobber, write_atomically
from vaezip.cli.progress import bar, wanted


def _beside(source: Path) -> str:
    """The name of a one-image file's PNG: SOURCE without .vz (with .png added when it lacks one)."""
    name = source.name[:-3] if source.name.endswith(".vz") else source.name + ".png"
    return name if name.lower().endswith(".png") else name + ".png"


def _targets(source: Path, pictures, output: str | None) -> tuple[list[Path], Path | None]:
    """Where each picture goes, and the directory to create for them (None: write a file as named).

    One image: ``-o`` names the file, unless it names a directory (an existing
    one, or a path ending in /): then the file named as beside SOURCE goes
    inside it. Several: ``-o`` (or SOURCE without .vz) names their directory.
    """
    directory = None if output is None else inside(output)
    if len(pictures) == 1:
        if output is not None and directory is None:
            return [Path(output)], None
        return [(directory or source.parent) / _beside(source)], directory
    if directory is None:
        directory = Path(output) if output is not None else source.with_name(
            source.name[:-3] if source.name.endswith(".vz") else source.name + ".d")
    if directory.exists() and not directory.is_dir():
        raise click.ClickException(f"{directory} is a file; the {len(pictures)} images go into a directory")
    names = [p.name or f"image-{i:06d}.png" for i, p in enumerate(pictures)]
    if len(set(names)) != len(names):
        names = [f"image-{i:06d}-{n}" for i, n in enumerate(names)]
    return [directory / n for n in names], directory


@click.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(),
              help="Output PNG (one image) or directory (several; an existing directory or a path ending "
                   "in / takes one image too) [default: SOURCE without .vz].")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar (it shows on a terminal for work over 2 s).")
def decompress(source, output, force, quiet):
    """Decompress a .vz file back to PNG files equal to the originals.

    Every image is checked against its stored checksum before anything is
    written; no model flag is needed (the file names its model).

    \b
    Example:
      vaezip decompress digit.png.vz            # writes digit.png
      vaezip decompress digit.png.vz -o out/    # writes out/digit.png
      vaezip decompress scans.vz -o restored/
    """
    show = wanted(quiet, False)
    with one_line_errors():
        pictures = _decode(source.read_bytes(), show)
        targets, directory = _targets(source, pictures, output)
        for target in targets:
            refuse_to_clobber(target, force)
        encoded = _encode(pictures)
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        with bar(len(targets), "files", "writing", show) as progress:
            for target, data in zip(targets, encoded):
                write_atomically(target, data, force)
                progress.update(1)
    where = targets[0] if len(targets) == 1 else targets[0].parent
    click.echo(f"wrote {len(targets)} image(s) to {where}")


def _decode(data: bytes, show: bool) -> list:
    from vaezip import api

    total = 0
    if show:  # the bar's length; a bad file fails in api.decompress with its own error
        from vaezip import format as vz

        total = sum(entry.count for entry in vz.read_header(data).images)
    with bar(total, "images", "decompressing", show) as progress:
        return api.decompress(data, progress=progress.update)


def _encode(pictures) -> list[bytes]:
    from vaezip.images import write_png

    encoded = []
    for picture in pictures:
        buffer = io.BytesIO()
        write_png(picture, buffer)
        encoded.append(buffer.getvalue())
    return encoded
