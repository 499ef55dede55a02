"""Helpers shared by the CLI commands: error mapping, ``-o`` naming a directory, safe file writing."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import click


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean bad input or a bad request: shown as one ``Error:`` line."""
    from vaezip.api import CodingError
    from vaezip.format import ContainerError
    from vaezip.images import ImageError
    from vaezip.rans import FormatError
    from vaezip.models.zoo import ModelError

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


def inside(output: str) -> Path | None:
    """The directory ``-o output`` says to write inside, or None when it names a file.

    An existing directory, or a path ending in ``/``, is a directory (the
    caller creates a new one when it writes); ``name/`` where ``name`` is a
    file is an error.
    """
    path = Path(output)
    if path.is_dir():
        return path
    if output.endswith(("/", os.sep)):
        if path.exists():
            raise click.ClickException(f"{output}: exists and is not a directory")
        return path
    return None


def refuse_to_clobber(path: Path, force: bool) -> None:
    """One ``Error:`` line if writing ``path`` would replace a directory, or a file without ``force``."""
    if path.is_dir():
        raise click.ClickException(f"{path} is a directory; name a file inside it")
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; use --force to overwrite it")


def write_atomically(path: Path, data: bytes, force: bool) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Refuses to replace an existing file unless ``force``; an interrupted
    run leaves no partial file behind. The file gets the permissions a plain
    ``open(path, "w")`` would give it (0o666 less the umask), or keeps those
    of the file it replaces; the temporary file's private 0o600 never shows.
    """
    refuse_to_clobber(path, force)
    mode = _mode_for(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent or Path("."), prefix=f".{path.name}.", suffix=".part")
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _mode_for(path: Path) -> int:
    """Permission bits for a new ``path``: an existing file's, else 0o666 less the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        mask = os.umask(0o022)  # reading the umask means setting it; put it straight back
        os.umask(mask)
        return 0o666 & ~mask
