"""The one place polaraug compiles its numba kernels: whether numba is usable, and each kernel compiled once.

numba is a dependency, but a platform without working wheels still runs every path that has a numpy/torch
or OpenCV equivalent; callers ask :func:`numba_available` first. Kernels are compiled on first use, cached
on disk (``cache=True``) and release the GIL (``nogil=True``), so threads can run them side by side.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

_COMPILED: dict[Callable, Any] = {}


@functools.cache
def numba_available() -> bool:
    """Whether numba imports."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def compiled(fn: Callable, **options: Any) -> Any:
    """``fn`` compiled by ``numba.njit(cache=True, nogil=True, **options)``, once per function.

    Args:
        fn: a plain Python function numba can compile.
        options: further njit options (``error_model``, ``fastmath``, ``inline``); the first call's options
            are the function's for the life of the process.

    Returns:
        The compiled dispatcher (compiles lazily per argument types).
    """
    if fn not in _COMPILED:
        import numba

        _COMPILED[fn] = _cache_failures_tolerated(numba.njit(cache=True, nogil=True, **options)(fn))
    return _COMPILED[fn]


def _cache_failures_tolerated(dispatcher: Any) -> Any:
    """``dispatcher`` whose on-disk cache may fail to save: on a full disk (or a quota) numba raises from
    inside the first call; the kernel then runs compiled but uncached instead.

    Args:
        dispatcher: a numba dispatcher made with ``cache=True``.

    Returns:
        The same dispatcher (its cache's ``save_overload`` wrapped; left alone if numba's internals differ).
    """
    cache = getattr(dispatcher, "_cache", None)
    save = getattr(cache, "save_overload", None)
    if save is None:
        return dispatcher

    def save_overload(sig: Any, data: Any) -> None:
        try:
            save(sig, data)
        except OSError:
            pass  # the next process compiles again

    cache.save_overload = save_overload
    return dispatcher
