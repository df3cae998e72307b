"""polaraug's exceptions: one base and a user-input branch.

The command line turns :class:`InputError` (and missing files) into one line on stderr with exit code 2;
any other exception is a bug and keeps its traceback (exit code 1). Raise :class:`InputError` (or a
subclass) only for something the user can fix: a file, an option, a dataset, a checkpoint. Messages are
one line and name the file (and line) when there is one.

``InputError`` also derives from ``ValueError`` so that callers written against the earlier
``ValueError``-based errors keep working.
"""

from __future__ import annotations

import re


class PolaraugError(Exception):
    """Base of every exception polaraug raises on purpose."""


class InputError(PolaraugError, ValueError):
    """Bad user input (a file, an option, a dataset, a checkpoint): reported as one line, exit code 2."""


class ConfigError(InputError):
    """A settings file or option value that polaraug cannot use."""


def one_line(text: str) -> str:
    """``text`` with its line breaks (and the spaces around them) collapsed to single spaces.

    Args:
        text: an error message.

    Returns:
        The message on one line.
    """
    return re.sub(r"\s*\n\s*", " ", text).strip()


def parse_reason(error: BaseException) -> str:
    """What a parser (json, yaml, a decoder) said about a file, as one short line for an error message.

    YAML's errors span several lines with an excerpt of the file; this keeps their problem and where it is
    ("while scanning a simple key: could not find expected ':' (line 5, column 1)"). A RecursionError is a
    document nested too deeply to parse.

    Args:
        error: the parser's exception.

    Returns:
        One line without the file's name (the caller's message names the file).
    """
    if isinstance(error, RecursionError):
        return "nested too deeply to parse"
    problem, mark = getattr(error, "problem", None), getattr(error, "problem_mark", None)
    if isinstance(problem, str) and mark is not None:
        context = getattr(error, "context", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})"
        return one_line(f"{context}: {problem}{where}" if isinstance(context, str) else f"{problem}{where}")
    return one_line(str(error)) or type(error).__name__


def excerpt(value: object, limit: int = 80) -> str:
    """``repr(value)`` cut after ``limit`` characters (with ``...``): for quoting a file's values in a
    message, which may be a whole document or a 5000-character string.

    Args:
        value: what the file held.
        limit: the most characters kept.

    Returns:
        The representation, at most ``limit + 3`` characters.
    """
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
