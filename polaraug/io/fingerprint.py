"""A cheap identity of an input file or folder, to notice that it changed between runs."""

from __future__ import annotations

import os
from pathlib import Path


def fingerprint(path: str | Path) -> list[int]:
    """[files, bytes, newest mtime in ns] of a file or of a folder's whole tree ([0, 0, 0] if missing)."""
    path = Path(path)
    if path.is_file():
        st = path.stat()
        return [1, st.st_size, st.st_mtime_ns]
    count = size = newest = 0
    for root, _, files in os.walk(path):
        for f in files:
            st = os.stat(os.path.join(root, f))
            count, size, newest = count + 1, size + st.st_size, max(newest, st.st_mtime_ns)
    return [count, size, newest]
