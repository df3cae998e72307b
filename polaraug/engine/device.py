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


def with_cpu_threads(base: type, threads: int | None = None) -> type:
    """A subclass of an ultralytics trainer class that trains on ``threads`` torch threads on the CPU.

    ultralytics' trainer sets torch to ``cpu_count - 1`` threads when it trains on the CPU: one on a 2-core
    machine, which leaves half of it idle (two threads train the benchmark's detector 1.32x faster).

    Args:
        base: a ``DetectionTrainer`` class or subclass.
        threads: intra-op threads (None: :func:`cpu_threads`). GPU trainings are left as they are.

    Returns:
        The subclass, named as ``base``, for ``YOLO(...).train(trainer=...)``.
    """
    n = threads or cpu_threads()

    class CPUThreadsTrainer(base):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)  # ultralytics' select_device sets its own count here
            if self.device.type == "cpu":
                torch.set_num_threads(n)

    CPUThreadsTrainer.__name__ = CPUThreadsTrainer.__qualname__ = base.__name__
    return CPUThreadsTrainer
