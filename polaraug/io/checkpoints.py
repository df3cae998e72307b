"""Loading polaraug checkpoints safely: ``torch.load(weights_only=True)`` (plain tensors and numbers, no
pickled code) with errors that name the file."""

from __future__ import annotations

import os
from pathlib import Path


class CheckpointError(ValueError):
    """A checkpoint cannot be used; the message names the file and why."""


def load_state(path: str | os.PathLike, fmt: str, what: str) -> dict:
    """The checkpoint dict of ``path``, which must carry ``format: fmt`` (``what`` names the kind)."""
    import torch

    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except Exception as e:  # noqa: BLE001 - torch raises many kinds for foreign or corrupt files
        raise CheckpointError(f"{path}: not a readable polaraug checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(state, dict) or state.get("format") != fmt:
        raise CheckpointError(f"{path}: not a polaraug {what} checkpoint (format {fmt!r} expected)")
    return state
