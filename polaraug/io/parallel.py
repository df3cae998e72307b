"""Process pools for frame-parallel work (synth, validate): one single-threaded process per core."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from typing import Any


def single_threaded() -> None:
    """Pin torch and BLAS to one thread in this process: with one worker process per core, their own
    thread pools oversubscribe the cores (measured 2.2x slower on synth)."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(1)


def _init(setup: Callable[..., None], args: tuple) -> None:
    single_threaded()
    setup(*args)


def process_pool(workers: int, setup: Callable[..., None], args: tuple = (), *, start_method: str | None = None) -> Any:
    """A multiprocessing pool of single-threaded workers; fork where available (no re-import cost), else
    spawn.

    Args:
        workers: number of worker processes.
        setup: run as ``setup(*args)`` once in each worker (e.g. to receive shared read-only state).
        args: arguments of ``setup`` (picklable under spawn).
        start_method: "fork" or "spawn" (spawn from a process whose torch already runs threads); None:
            fork where available.

    Returns:
        The ``multiprocessing.Pool``; use it as a context manager.
    """
    if start_method is None:
        start_method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    ctx = mp.get_context(start_method)
    return ctx.Pool(workers, initializer=_init, initargs=(setup, args))
