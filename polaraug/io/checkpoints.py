"""Loading polaraug checkpoints safely: ``torch.load(weights_only=True)`` (plain tensors and numbers, no
pickled code) with errors that name the file."""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

from polaraug.errors import InputError


class CheckpointError(InputError):
    """A checkpoint cannot be used; the message names the file and why."""


# torch's weights_only unpickler names what it refused, e.g. "Unsupported global: GLOBAL builtins.set was not
# an allowed global by default" or "... but got <class 'foo.Bar'>"; the rest of its message is advice to
# reload with weights_only=False, which must not reach a polaraug user.
_GLOBAL = re.compile(r"Unsupported global: GLOBAL ([\w.]+)")
_CLASS = re.compile(r"got <class '([\w.]+)'>")
_DETAIL = re.compile(r"WeightsUnpickler error: ([^\n]*)")
_TENSORS_ONLY = "(polaraug checkpoints hold only tensors and numbers)"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _weights_only_message(path: Path, error: Exception) -> str | None:
    """One line for a file torch's ``weights_only`` loader refused (None for any other error): the pickled
    object it names, else the unpickler's own reason without torch's advice."""
    text = str(error)
    if not isinstance(error, pickle.UnpicklingError) or "weights" not in text.lower():
        return None
    name = _GLOBAL.search(text) or _CLASS.search(text)
    if name:
        return f"{path}: refuses to load: the file holds a pickled object `{name.group(1)}` {_TENSORS_ONLY}"
    detail = _DETAIL.search(text)
    reason = (_one_line(detail.group(1)) if detail else "") or "not a weights-only checkpoint"
    return f"{path}: not a readable polaraug checkpoint ({reason}) {_TENSORS_ONLY}"


def load_state(path: str | os.PathLike, fmt: str, what: str) -> dict:
    """The checkpoint dict of ``path``, loaded with ``torch.load(weights_only=True)``.

    Args:
        path: the checkpoint file.
        fmt: the ``format`` value the checkpoint must carry.
        what: the kind of checkpoint, for messages (e.g. ``"translator"``).

    Returns:
        The checkpoint's dict, on the CPU.

    Raises:
        CheckpointError: the file is missing, unreadable, holds pickled objects beyond tensors and numbers, or
            is not a ``fmt`` checkpoint; the message is one line and names the file.
    """
    import torch

    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except Exception as e:  # noqa: BLE001 - torch raises many kinds for foreign or corrupt files
        refused = _weights_only_message(path, e)
        if refused:
            raise CheckpointError(refused) from None
        reason = _one_line(str(e))
        raise CheckpointError(f"{path}: not a readable polaraug checkpoint ({type(e).__name__}"
                              f"{': ' + reason if reason else ''})") from None
    if not isinstance(state, dict) or state.get("format") != fmt:
        raise CheckpointError(f"{path}: not a polaraug {what} checkpoint (format {fmt!r} expected)")
    return state
