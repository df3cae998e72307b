"""Atomic file writes: write to a temporary file in the target folder, then rename over the target.

A reader (or a resumed run) therefore sees either the old file or the complete new one, never a part.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once: os.umask can only be read by setting it


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, set_mode: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to ``path`` (same suffix); on success rename it onto ``path``.

    The temporary file is removed if the block raises. Parent folders are created. ``set_mode``: give the
    file the permissions ``open()`` would (off when the block puts a hard link there: its mode is its
    source's).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    except OSError as e:  # a read-only folder, no inode left: name the file we meant to write
        raise_naming(e, path, None)
    os.close(fd)
    try:
        yield Path(tmp)
        if set_mode:
            os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the file the permissions open() would
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):  # on a read-only folder this fails too: the first error is the news
            Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise_naming(e, path, tmp)
        raise


def naming(error: OSError, path: Path, tmp: str | None) -> OSError:
    """``error`` naming ``path`` where it names no file or only our temporary (a full disk's ``write``
    names none; a copy's names its source first and our temporary second).

    Args:
        error: what the write raised.
        path: the file being written.
        tmp: its temporary (None: any name the error gives is the temporary's, as from ``mkstemp``).

    Returns:
        ``error`` itself when it has no errno or names another file only; else a new error of the same errno
        (and so the same subclass: PermissionError for EACCES) naming ``path``.
    """
    names = {os.fspath(n) for n in (error.filename, error.filename2) if isinstance(n, (str, os.PathLike))}
    if error.errno is None or (tmp is not None and names and os.fspath(tmp) not in names):
        return error
    return OSError(error.errno, error.strerror or os.strerror(error.errno), str(path))


def raise_naming(error: OSError, path: Path, tmp: str | None) -> NoReturn:
    """Raise :func:`naming`'s error, chained to ``error`` when it is a new one.

    Raises:
        OSError: always.
    """
    named = naming(error, path, tmp)
    if named is error:
        raise error
    raise named from error


def link_or_copy(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Hard-link (else copy) ``src`` to ``dst`` atomically, replacing an older file there.

    A link shares ``src``'s inode, so its permissions are left alone (changing them would change ``src``);
    only a copy gets the permissions ``open()`` would give.

    Returns: ``dst``.
    """
    src, dst = Path(src), Path(dst)
    if dst.exists() and dst.samefile(src):
        return dst
    with atomic_path(dst, set_mode=False) as tmp:
        tmp.unlink()  # the name stays ours: temporaries are random, and stale ones are cleaned by name
        try:
            os.link(src, tmp)
        except OSError:  # another file system, or links not allowed: copy
            shutil.copyfile(src, tmp)
            os.chmod(tmp, 0o666 & ~_UMASK)
    return dst


def copy_atomically(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """``shutil.copy2`` (contents, permissions, times) through a temporary: ``dst`` is the old file or the
    whole copy, never a part; a ``copy_function`` for ``shutil.copytree``.

    Returns:
        ``dst`` as a Path.
    """
    with atomic_path(dst, set_mode=False) as tmp:
        shutil.copy2(src, tmp)
    return Path(dst)


def copy_tree_atomically(src: str | os.PathLike, dst: str | os.PathLike) -> int:
    """Copy every file under ``src`` to the same place under ``dst`` with :func:`copy_atomically`, replacing
    older files there; stop at the first error (``shutil.copytree`` goes on and raises a list of messages at
    the end, without the errno).

    Args:
        src: the folder to copy.
        dst: where (created if missing).

    Returns:
        The number of files copied.

    Raises:
        OSError: the first file that could not be read or written (named, errno kept).
    """
    src, dst = Path(src), Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in src.rglob("*") if p.is_file())
    for p in files:
        copy_atomically(p, dst / p.relative_to(src))
    return len(files)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Atomically write ``text`` (UTF-8) to ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def remove_stale_temporaries(folder: str | os.PathLike, *, only_done: bool = False) -> int:
    """Delete the temporary files ``atomic_path`` leaves under ``folder`` when its process is killed
    (``.NAME.XXXX.tmp.SUFFIX``).

    Args:
        folder: where to look (recursively).
        only_done: delete only temporaries whose target file exists (a finished write: the temporary is a
            leftover), so that writers still running there are never disturbed; otherwise delete all (only
            when no writer runs there).

    Returns:
        The number of files removed.
    """
    removed = 0
    for p in Path(folder).rglob(".*.tmp*"):
        if not (p.is_file() and ".tmp" in p.name):
            continue
        stem = p.name[1:].rsplit(".", 3)[0]  # ".NAME.XXXX.tmp.SUFFIX" -> NAME
        if only_done and not (p.parent / f"{stem}{p.suffix}").exists():
            continue
        p.unlink(missing_ok=True)
        removed += 1
    return removed
