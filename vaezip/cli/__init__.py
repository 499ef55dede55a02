"""The ``vaezip`` command line.

Each command lives in its own module under ``vaezip.cli`` and is imported
only when it is invoked, so ``vaezip --help`` never waits for torch or numba.
To add a command, add its module and an entry to ``COMMANDS``.
"""

from __future__ import annotations

import importlib

import click

from vaezip import __version__

# command name -> (module, attribute, one-line help shown by ``vaezip --help``)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "bench": ("vaezip.cli.bench", "bench", "Benchmark vaezip on a data set beside PNG, WebP, JPEG XL, xz."),
    "compress": ("vaezip.cli.compress", "compress", "Compress PNG images into a .vz file."),
    "decompress": ("vaezip.cli.decompress", "decompress", "Decompress a .vz file back to PNGs."),
    "info": ("vaezip.cli.info", "info", "Show a .vz file's header without decoding it."),
    "models": ("vaezip.cli.models", "models", "List the model zoo."),
    "train": ("vaezip.cli.train", "train", "Train a VAE and add it to the model zoo."),
}


class LazyGroup(click.Group):
    """A click group that imports a command's module only when it runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="vaezip")
def main() -> None:
    """Lossless image compression with a VAE and bits-back ANS coding.

    \b
    Example:
      vaezip --version
    """
