"""Which device a command runs on."""

from __future__ import annotations

import os

import torch


def pick_device(name: str | None = None) -> torch.device:
    """Args: name: a torch device name ("cpu", "cuda", "cuda:1"), or None.

    Returns: ``name`` if given, else CUDA when present, else the CPU.
    """
    return torch.device(name or ("cuda" if torch.cuda.is_available() else "cpu"))


def cpu_threads() -> int:
    """The torch intra-op threads CPU work should use: ``OMP_NUM_THREADS`` as it was when polaraug was imported
    (before ultralytics, whose import sets it to 1 when it is unset), else every core this process may run on.

    Returns: a thread count >= 1.
    """
    from polaraug import OMP_NUM_THREADS_AT_IMPORT

    if OMP_NUM_THREADS_AT_IMPORT and OMP_NUM_THREADS_AT_IMPORT.strip().isdigit():
        return max(1, int(OMP_NUM_THREADS_AT_IMPORT))
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else (os.cpu_count() or 1)
