"""A disk that fills up, or a folder that turns read-only, part-way through a run: no root, no small file
system, only the two calls every polaraug write goes through (``tempfile.mkstemp`` to create the temporary,
``os.replace`` to commit it; see polaraug.io.atomic).

Only writes under one folder (the run's output) count and fail; others (numba's kernel cache, say) pass. After
``after`` files are committed there, every later write there fails as the kernel would fail it:

- ENOSPC: the temporary is cut to half its length (what a write that ran out of space leaves) and the commit
  raises ``OSError(ENOSPC)`` naming no file, as ``write(2)``'s error does;
- EACCES: creating a temporary raises ``PermissionError`` naming it, and a commit raises one naming both
  files, as in a folder made read-only.

The disk stays full (or read-only) until the test ends, like a real one until someone frees it. Forked worker
processes inherit the patch and a copy of the count.
"""

from __future__ import annotations

import errno
import os
import tempfile
import threading
from pathlib import Path


class FailingDisk:
    """Patches ``os.replace`` and ``tempfile.mkstemp``; see the module docstring.

    Args:
        root: the folder whose writes count and fail.
        after: commits that succeed there before the first failure.
        error: errno.ENOSPC or errno.EACCES.
    """

    def __init__(self, root: Path, after: int, error: int = errno.ENOSPC):
        if error not in (errno.ENOSPC, errno.EACCES):
            raise ValueError(f"unsupported errno {error}")
        self.root = os.path.abspath(root)
        self.after, self.error = after, error
        self.commits = 0
        self.failures = 0  # writes refused so far (in this process)
        self._lock = threading.Lock()
        self._replace, self._mkstemp = os.replace, tempfile.mkstemp

    def install(self, monkeypatch) -> FailingDisk:
        """Patch the two calls for the rest of the test.

        Args:
            monkeypatch: pytest's fixture.

        Returns:
            self.
        """
        monkeypatch.setattr(os, "replace", self.replace)
        monkeypatch.setattr(tempfile, "mkstemp", self.mkstemp)
        return self

    def _ours(self, path) -> bool:
        return os.path.abspath(path).startswith(self.root + os.sep)

    def _full(self) -> bool:
        with self._lock:
            if self.commits < self.after:
                return False
            self.failures += 1
            return True

    def replace(self, src, dst) -> None:
        """``os.replace``, failing once ``after`` commits are done."""
        if not self._ours(dst):
            self._replace(src, dst)
            return
        if self._full():
            if self.error == errno.EACCES:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(src), os.fspath(dst))
            size = Path(src).stat().st_size
            os.truncate(src, size // 2)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._replace(src, dst)
        with self._lock:
            self.commits += 1

    def mkstemp(self, suffix=None, prefix=None, dir=None, text=False):  # noqa: A002 - tempfile's own names
        """``tempfile.mkstemp``; in a read-only folder (EACCES), refused once ``after`` commits are done."""
        if self.error == errno.EACCES and self._ours(os.path.join(dir or ".", "x")) and self._full():
            name = os.path.join(dir or tempfile.gettempdir(), f"{prefix or 'tmp'}XXXXXXXX{suffix or ''}")
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), name)
        return self._mkstemp(suffix, prefix, dir, text)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path, with the creation time taken out of manifests (the one
    thing two runs of the same command write differently).

    Args:
        root: a folder.

    Returns:
        {relative path: bytes}.
    """
    import json

    files = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            if p.name == "manifest.json":
                doc = json.loads(data)
                doc.get("provenance", {}).pop("created", None)
                data = json.dumps(doc, sort_keys=True).encode()
            files[str(p.relative_to(root))] = data
    return files


def assert_no_partial_file(root: Path, complete: dict[str, bytes]) -> None:
    """Every file under ``root`` is one of the uninterrupted run's, byte for byte: no partial file, no
    temporary, no lock left behind.

    Args:
        root: the output after a failed run.
        complete: :func:`snapshot` of the same output written by an uninterrupted run.
    """
    now = snapshot(root)
    strays = sorted(set(now) - set(complete))
    assert not strays, f"files an uninterrupted run does not write: {strays}"
    differ = sorted(k for k in now if now[k] != complete[k])
    assert not differ, f"partial or different files: {differ}"
