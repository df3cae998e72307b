"""Which device a command runs on."""

from __future__ import annotations

import torch


def pick_device(name: str | None = None) -> torch.device:
    """Args: name: a torch device name ("cpu", "cuda", "cuda:1"), or None.

    Returns: ``name`` if given, else CUDA when present, else the CPU.
    """
    return torch.device(name or ("cuda" if torch.cuda.is_available() else "cpu"))
