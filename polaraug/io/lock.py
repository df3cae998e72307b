"""One writer per output: a lock file in the output folder, taken before the first write.

Two processes writing one set would interleave records, manifests and labels. Every command that writes a
set (``translate``, ``validate --fix``, ``synth``, ``export-yolo``, the pipeline runner) holds
``OUT/.polaraug.lock`` (or, for one shard of a sharded translation, ``OUT/.polaraug-shard-I-of-N.lock``, so
the shards of one job run side by side) while it writes. A second process gets a one-line error naming the
holder's pid and command. A lock left by a process that no longer runs on this host is stale: it is taken
over, and the resumable commands carry on from what the killed run wrote.

The lock is created with ``O_CREAT | O_EXCL`` (atomic on local file systems and NFSv3+), holding a JSON
record: pid, host, command, start time.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from polaraug.errors import InputError
from polaraug.io.atomic import raise_naming

LOCK_NAME = ".polaraug.lock"


def lock_path(out: str | os.PathLike, shard: tuple[int, int] | None = None) -> Path:
    """The lock file of an output folder (of one shard of it when ``shard`` = (i, n) with n > 1)."""
    if shard is not None and shard[1] > 1:
        return Path(out) / f".polaraug-shard-{shard[0]}-of-{shard[1]}.lock"
    return Path(out) / LOCK_NAME


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _holder(path: Path) -> dict | None:
    """The lock's record, or None when it is stale (its process is gone) or unreadable (a crash mid-write)."""
    try:
        rec = json.loads(path.read_text())
        pid, host = int(rec["pid"]), str(rec["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if host == socket.gethostname() and not _alive(pid):
        return None
    return rec


def _try_create(path: Path, record: dict) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(record, f)
    except OSError as e:  # a full disk: leave no empty lock behind, and say which file
        path.unlink(missing_ok=True)
        raise_naming(e, path, None)
    return True


@contextmanager
def output_lock(out: str | os.PathLike, command: str, shard: tuple[int, int] | None = None) -> Iterator[Path]:
    """Hold the output's lock while writing it.

    Args:
        out: the output folder (created if missing).
        command: what writes it, for the other process's error (e.g. ``"polaraug translate"``).
        shard: (i, n) for one shard of a sharded job.

    Yields:
        The lock file's path.

    Raises:
        InputError: another running process holds the lock (the message names its pid and command).
    """
    path = lock_path(out, shard)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"pid": os.getpid(), "host": socket.gethostname(), "command": command, "since": time.time()}
    for _ in range(3):  # a stale lock is removed and creation retried (another process may win the race)
        if _try_create(path, record):
            break
        holder = _holder(path)
        if holder is not None:
            since = time.strftime("%Y-%m-%d %H:%M", time.localtime(float(holder.get("since", 0))))
            raise InputError(f"{path.parent}: being written by pid {holder['pid']} on {holder['host']} "
                             f"({holder.get('command', '?')}, since {since}); wait for it, or remove {path} "
                             "if that process is gone")
        path.unlink(missing_ok=True)  # stale: its process is gone
    else:
        raise InputError(f"{path}: could not take the output's lock (another process keeps recreating it)")
    try:
        yield path
    finally:
        try:
            if json.loads(path.read_text()).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass
