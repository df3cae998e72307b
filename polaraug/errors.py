"""polaraug's exceptions: one base and a user-input branch.

The command line turns :class:`InputError` (and missing files) into one line on stderr with exit code 2;
any other exception is a bug and keeps its traceback (exit code 1). Raise :class:`InputError` (or a
subclass) only for something the user can fix: a file, an option, a dataset, a checkpoint. Messages are
one line and name the file (and line) when there is one.

``InputError`` also derives from ``ValueError`` so that callers written against the earlier
``ValueError``-based errors keep working.
"""

from __future__ import annotations


class PolaraugError(Exception):
    """Base of every exception polaraug raises on purpose."""


class InputError(PolaraugError, ValueError):
    """Bad user input (a file, an option, a dataset, a checkpoint): reported as one line, exit code 2."""


class ConfigError(InputError):
    """A settings file or option value that polaraug cannot use."""
