"""Turn expected user errors into one clear line on stderr and exit code 2 (no traceback)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer

from polaraug.cameras import CalibrationFileError
from polaraug.io.images import ImageReadError


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Report CalibrationFileError, ImageReadError, ValueError and OSError as ``error: ...``."""
    try:
        yield
    except (CalibrationFileError, ImageReadError, ValueError, OSError) as e:
        typer.secho(f"error: {e}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
