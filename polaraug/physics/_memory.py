"""Large output buffers backed by transparent huge pages.

A fresh 5-megapixel analysis writes 120 MB of new outputs; with 4 KiB pages the kernel faults and zeroes
them one page at a time, which cost more than the arithmetic (measured on the 2-core VM: 56 ms to first
touch 120 MB from ``torch.empty`` against 15 ms with huge pages and 7 ms for a reused buffer). Anonymous
memory advised ``MADV_HUGEPAGE`` is faulted in 2 MiB pages where the system allows it (transparent huge
pages set to ``madvise`` or ``always``); elsewhere, or for small buffers, this is plain ``torch.empty``.
"""

from __future__ import annotations

import mmap

import numpy as np
import torch

HUGE_MIN_BYTES = 4 << 20  # below a few huge pages, the mmap system calls cost more than they save
_NUMPY = {torch.float32: np.float32, torch.float64: np.float64}


def empty_large(n: int, dtype: torch.dtype) -> torch.Tensor:
    """An uninitialised flat tensor of ``n`` elements, on huge pages when large (and the OS offers them).

    Args:
        n: number of elements.
        dtype: torch.float32 or torch.float64 (others: plain ``torch.empty``).

    Returns:
        (n,) CPU tensor; its memory is released when the last view of it is.
    """
    size = n * torch.empty(0, dtype=dtype).element_size()
    advise = getattr(mmap, "MADV_HUGEPAGE", None)
    if size < HUGE_MIN_BYTES or advise is None or dtype not in _NUMPY:
        return torch.empty(n, dtype=dtype)
    buf = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        buf.madvise(advise)
    except OSError:  # kernels without transparent huge pages: ordinary pages, still correct
        pass
    return torch.from_numpy(np.frombuffer(buf, dtype=_NUMPY[dtype]))
