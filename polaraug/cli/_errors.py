"""Turn user errors into one clear line on stderr and exit code 2 (no traceback); let bugs through.

User errors are :class:`polaraug.errors.InputError` (bad files, options, datasets, checkpoints; the
calibration, image, dataset, checkpoint and pipeline errors all derive from it), files that are missing or
cannot be opened, and click/typer usage errors raised inside a command. Anything else, a plain ValueError
from numpy for instance, is a bug: it propagates with its traceback and the command exits with status 1.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer

from polaraug.errors import InputError, one_line

try:  # typer >= 0.2x vendors click as typer._click; older typer uses click itself
    from typer._click.exceptions import ClickException, UsageError
except ImportError:  # pragma: no cover - depends on the installed typer
    from click.exceptions import ClickException, UsageError

USER_ERRORS: tuple[type[BaseException], ...] = (
    InputError,
    FileNotFoundError,
    NotADirectoryError,
    IsADirectoryError,
    PermissionError,
    UsageError,  # typer.BadParameter included
)


def message(error: BaseException) -> str:
    """The one-line message of a user error, as ``error: ...`` prints it.

    Args:
        error: an instance of one of USER_ERRORS.

    Returns:
        The error's message on one line (click's own message for usage errors).
    """
    text = error.format_message() if isinstance(error, ClickException) else str(error)
    return one_line(text)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Report USER_ERRORS as ``error: MESSAGE`` on stderr and exit with status 2; re-raise anything else.

    Raises:
        typer.Exit: with code 2, after printing the message of a user error.
    """
    try:
        yield
    except USER_ERRORS as e:
        typer.secho(f"error: {message(e)}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
