"""Turn user errors into one clear line on stderr and exit code 2 (no traceback); let bugs through.

User errors are :class:`polaraug.errors.InputError` (bad files, options, datasets, checkpoints; the
calibration, image, dataset, checkpoint and pipeline errors all derive from it), files that are missing or
cannot be opened, click/typer usage errors raised inside a command, and the storage's conditions: a full disk
or quota, a file too large for the file system, a read-only or forbidden folder (``STORAGE_ERRNOS``; the
writes are atomic, so the run leaves no partial file and a rerun resumes). Anything else, a plain ValueError
from numpy or an OSError of another errno for instance, is a bug: it propagates with its traceback and the
command exits with status 1.
"""

from __future__ import annotations

import contextlib
import errno
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

STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM})
_AGAIN = "and run the same command again"
HINTS = {errno.ENOSPC: f"; free some space {_AGAIN}", errno.EDQUOT: f"; free some space {_AGAIN}",
         errno.EFBIG: f"; write where files this large are allowed {_AGAIN}"}


def is_storage_error(error: BaseException) -> bool:
    """Whether ``error`` is the storage's condition rather than a bug: an OSError of ``STORAGE_ERRNOS``.

    Args:
        error: any exception.

    Returns:
        True for a full disk or quota, a file too large, a read-only or forbidden file or folder.
    """
    return isinstance(error, OSError) and error.errno in STORAGE_ERRNOS


def message(error: BaseException) -> str:
    """The one-line message of a user error, as ``error: ...`` prints it.

    Args:
        error: an instance of one of USER_ERRORS, or a storage error (:func:`is_storage_error`).

    Returns:
        The error's message on one line (click's own message for usage errors; ``FILE: what happened`` for a
        storage error, with what to do about a full disk).
    """
    if is_storage_error(error) and error.filename is not None:
        return one_line(f"{error.filename}: {error.strerror}{HINTS.get(error.errno, '')}")
    text = error.format_message() if isinstance(error, ClickException) else str(error)
    return one_line(text)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Report USER_ERRORS and storage errors as ``error: MESSAGE`` on stderr and exit with status 2; re-raise
    anything else.

    Raises:
        typer.Exit: with code 2, after printing the message of a user error.
    """
    try:
        yield
    except USER_ERRORS as e:
        _report(e)
    except OSError as e:
        if not is_storage_error(e):
            raise
        _report(e)


def _report(error: BaseException) -> None:
    """Print ``error: MESSAGE`` on stderr.

    Raises:
        typer.Exit: with code 2, always.
    """
    typer.secho(f"error: {message(error)}", err=True, fg=typer.colors.RED)
    raise typer.Exit(2) from None
