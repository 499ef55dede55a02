"""``vaezip decompress``: a .vz file in, the original PNGs out."""

from __future__ import annotations

import io
from pathlib import Path

import click

from vaezip.cli._common import one_line_errors, write_atomically


def _targets(source: Path, pictures, output: Path | None) -> list[Path]:
    if len(pictures) == 1:
        if output is not None:
            return [output]
        name = source.name[:-3] if source.name.endswith(".vz") else source.name + ".png"
        if not name.lower().endswith(".png"):
            name += ".png"
        return [source.with_name(name)]
    directory = output or source.with_name(source.name[:-3] if source.name.endswith(".vz") else source.name + ".d")
    names = [p.name or f"image-{i:06d}.png" for i, p in enumerate(pictures)]
    if len(set(names)) != len(names):
        names = [f"image-{i:06d}-{n}" for i, n in enumerate(names)]
    return [directory / n for n in names]


@click.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Output PNG (one image) or directory (several) [default: SOURCE without .vz].")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
def decompress(source, output, force):
    """Decompress a .vz file back to PNG files equal to the originals.

    Every image is checked against its stored checksum before anything is
    written; no model flag is needed (the file names its model).

    \b
    Example:
      vaezip decompress digit.png.vz            # writes digit.png
      vaezip decompress scans.vz -o restored/
    """
    with one_line_errors():
        from vaezip import api
        from vaezip.images import write_png

        pictures = api.decompress(source.read_bytes())
        targets = _targets(source, pictures, output)
        existing = [t for t in targets if t.exists()]
        if existing and not force:
            raise click.ClickException(f"{existing[0]} exists; use --force to overwrite it")
        encoded = []
        for picture in pictures:
            buffer = io.BytesIO()
            write_png(picture, buffer)
            encoded.append(buffer.getvalue())
        if len(targets) > 1:
            targets[0].parent.mkdir(parents=True, exist_ok=True)
        for target, data in zip(targets, encoded):
            write_atomically(target, data, force)
    where = targets[0] if len(targets) == 1 else targets[0].parent
    click.echo(f"wrote {len(targets)} image(s) to {where}")
