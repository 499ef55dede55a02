"""Helpers shared by the CLI commands: error mapping and safe file writing."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import click


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean bad input or a bad request: shown as one ``Error:`` line."""
    from vaezip.api import CodingError
    from vaezip.container import ContainerError
    from vaezip.images import ImageError
    from vaezip.rans import FormatError
    from vaezip.zoo import ModelError

    return (CodingError, ContainerError, ImageError, FormatError, ModelError, OSError)


@contextlib.contextmanager
def one_line_errors():
    """Turn library errors into ``click.ClickException`` (one line, exit code 1)."""
    try:
        yield
    except click.ClickException:
        raise
    except user_errors() as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        if isinstance(error, OSError) and error.filename and str(error.filename) not in message:
            message = f"{error.filename}: {message}"
        raise click.ClickException(message) from None


def write_atomically(path: Path, data: bytes, force: bool) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Refuses to replace an existing file unless ``force``; an interrupted
    run leaves no partial file behind.
    """
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; use --force to overwrite it")
    handle, temporary = tempfile.mkstemp(dir=path.parent or Path("."), prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
