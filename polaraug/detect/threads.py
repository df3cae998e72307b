"""CPU threads of a detector's training.

ultralytics' trainer sets torch to ``cpu_count - 1`` threads when it trains on the CPU: one thread on a
2-core machine, which leaves half of it idle. Its trainers here put the count back to
:func:`polaraug.engine.device.cpu_threads` (``OMP_NUM_THREADS`` when the user set it, else every core).
"""

from __future__ import annotations

import torch

from polaraug.engine.device import cpu_threads


def with_cpu_threads(base: type, threads: int | None = None) -> type:
    """A subclass of an ultralytics trainer class that trains on ``threads`` torch threads on the CPU.

    Args:
        base: a ``DetectionTrainer`` class (or subclass, e.g. :func:`polaraug.augment.yolo.polar_trainer`'s).
        threads: intra-op threads (None: :func:`cpu_threads`). GPU trainings are left as they are.

    Returns:
        The subclass, for ``YOLO(...).train(trainer=...)``; class attributes of ``base`` stay shared with it.
    """
    n = threads or cpu_threads()

    class CPUThreadsTrainer(base):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)  # ultralytics' select_device sets its own count here
            if self.device.type == "cpu":
                torch.set_num_threads(n)

    CPUThreadsTrainer.__name__ = CPUThreadsTrainer.__qualname__ = base.__name__
    return CPUThreadsTrainer
