"""``vaezip info``: the header of a .vz file, without decoding."""

from __future__ import annotations

from pathlib import Path

import click

from vaezip.cli._common import one_line_errors


@click.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def info(source):
    """Show what a .vz file holds (model, settings, images, streams) without decoding it.

    \b
    Example:
      vaezip info digit.png.vz
    """
    with one_line_errors():
        from vaezip import format as vz

        data = source.read_bytes()
        contents = vz.read_header(data)
        if len(data) != contents.file_size:
            raise vz.TruncatedError(f"{source}: the file is {len(data)} bytes, its header says {contents.file_size}")
    h = contents.header
    images = sum(e.count for e in contents.images)
    dims = sum(e.pixels * e.channels for e in contents.images)
    click.echo(f"file      {source} ({contents.file_size} bytes, format v{h.version}, "
               f"written by vaezip {'.'.join(map(str, h.writer))})")
    click.echo(f"model     {h.model}" + (f" (sha256 {h.model_sha256.hex()[:16]}...)" if h.model != vz.MODEL_FREE else ""))
    click.echo(f"coding    {vz.ESTIMATORS[h.estimator]}, K={h.particles}, batch {h.batch_size}, "
               f"latent_bits {h.latent_bits}, precisions {h.likelihood_precision}/{h.posterior_precision}")
    click.echo(f"images    {images} in {len(contents.images)} entries, {dims} dimensions, "
               f"{8 * contents.file_size / max(dims, 1):.4f} bits/dim")
    for e in contents.images[:20]:
        name = f" {e.names[0]}" + (" ..." if e.count > 1 else "") if e.names else ""
        tiles = (f" ({e.tile_coders.count(vz.CODER_VAE)} of {len(e.tile_coders)} tiles by the VAE)"
                 if e.coder == vz.CODER_PER_TILE else "")
        click.echo(f"  {e.count:6d} x {e.width}x{e.height} {e.mode:7} {vz.CODERS[e.coder]:10}{name}{tiles}")
    if len(contents.images) > 20:
        click.echo(f"  ... {len(contents.images) - 20} more entries")
    click.echo(f"streams   {len(contents.streams)}: " + ", ".join(
        f"{s.image_count} img/{s.word_count} words" for s in contents.streams[:8]))
