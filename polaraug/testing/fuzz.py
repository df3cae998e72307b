"""Run readers on mutated files and sort what happens.

Outcomes of one case (a target's valid sample with one file mutated, read by the target's reader):

- ``ok``: the reader accepted the file and its result keeps the reader's contract (``Target.check``);
- ``clean error``: polaraug's error for bad input (``InputError``, or a missing or unreadable file, which
  the command line reports the same way) whose message is one line of at most MAX_MESSAGE characters and
  names the mutated file (a file the mutation removed may be named by the folder it was looked for in);
- ``traceback``: anything else: another exception, a multi-line message, or one that does not name the file;
- ``partial output``: the reader wrote, changed or removed files (a reader writes nothing);
- ``bad result``: accepted, but the result breaks the contract (a 0x0 image, a box outside its image, ...).

Only ``ok`` and ``clean error`` are acceptable.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import time
import traceback
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from polaraug.errors import InputError

from .mutate import mutate
from .targets import Samples, Target

OK, CLEAN, TRACEBACK, PARTIAL, BAD_RESULT = "ok", "clean error", "traceback", "partial output", "bad result"
OUTCOMES = (OK, CLEAN, TRACEBACK, PARTIAL, BAD_RESULT)
ACCEPTABLE = (OK, CLEAN)
MAX_MESSAGE = 1000  # characters: longer is no message a user reads (it quotes a file's content whole)
# What ``polaraug.cli._errors.USER_ERRORS`` reports as one line with exit code 2 (click's usage errors
# aside, which no reader raises); tests/test_fuzz.py keeps the two equal.
CLEAN_ERRORS: tuple[type[BaseException], ...] = (InputError, FileNotFoundError, NotADirectoryError,
                                                 IsADirectoryError, PermissionError)


@dataclass
class Case:
    """One fuzz case: which file was mutated how, and what the reader did."""

    target: str
    file: str
    mutation: str
    outcome: str
    detail: str = ""


def classify(error: BaseException | None, mutated: Path, changed: list[str], problem: str | None,
             gone_from: Path | None = None) -> tuple[str, str]:
    """(outcome, detail) of one read (see the module docstring).

    Args:
        error: what the reader raised, or None.
        mutated: the mutated file, which a clean error names.
        changed: files the read wrote, changed or removed.
        problem: what ``Target.check`` found wrong with an accepted result, or None.
        gone_from: for a file removed (or made a folder or a broken link), the sample's folder: a file that is
            not there may also be named by the folder it was looked for in (any folder from its own up to
            ``gone_from``).
    """
    if changed:
        return PARTIAL, f"wrote {changed[:3]}"
    if error is None:
        return (BAD_RESULT, problem) if problem else (OK, "")
    text = str(error)
    detail = f"{type(error).__name__}: {text[:300]}"
    if isinstance(error, CLEAN_ERRORS):
        if "\n" in text:
            return TRACEBACK, f"message on several lines: {detail}"
        if len(text) > MAX_MESSAGE:
            return TRACEBACK, f"message of {len(text)} characters: {detail}"
        where = [mutated.name]
        if gone_from is not None:
            where += [str(p) for p in mutated.parents if p == gone_from or gone_from in p.parents]
        if not any(w in text for w in where):
            return TRACEBACK, f"message does not name {mutated.name}: {detail}"
        return CLEAN, detail
    tb = traceback.extract_tb(error.__traceback__)
    where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
    return TRACEBACK, detail + where


class CaseTimeout(Exception):
    """A read took longer than the case's deadline (a hang on bad input is a bug, like a traceback)."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise CaseTimeout in the block after ``seconds`` (Unix main thread; elsewhere no deadline)."""
    import signal
    import threading

    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise CaseTimeout(f"no result after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


def _changed(before: dict, after: dict) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


FS_SHARE = 0.04  # of cases whose file becomes a folder, a dangling link or a link to itself, or goes
FS_MUTATIONS = ("remove", "folder", "dangling link", "link loop")


def mutate_path(path: Path, kind: str, rnd: random.Random) -> str:
    """Mutate the file at ``path``: mostly its bytes (``mutate.mutate``), sometimes the file itself.

    Returns:
        The mutation's name.
    """
    if rnd.random() >= FS_SHARE:
        name, data = mutate(path.read_bytes(), kind, rnd)
        path.write_bytes(data)
        return name
    how = rnd.choice(FS_MUTATIONS)
    path.unlink()
    if how == "folder":
        path.mkdir()
    elif how == "dangling link":
        path.symlink_to(path.with_name(f"missing-{path.name}"))
    elif how == "link loop":
        path.symlink_to(path.name)
    return how


def run_case(target: Target, samples: Samples, work: Path, rnd: random.Random, timeout: float = 20.0) -> Case:
    """Copy ``target``'s sample into ``work``, mutate one of its files with ``rnd``, read it (for at most
    ``timeout`` seconds), classify what happened."""
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(samples.template(target), work)
    path, kind = rnd.choice(target.mutable_files(work))
    name = mutate_path(path, kind, rnd)
    before = _snapshot(work)
    error, result = None, None
    try:
        with deadline(timeout):
            result = target.read(work)
    except Exception as e:  # noqa: BLE001 - classifying every failure is the point
        error = e
    problem = target.check(result) if error is None else None
    gone = name in FS_MUTATIONS
    outcome, detail = classify(error, path, _changed(before, _snapshot(work)), problem, work if gone else None)
    return Case(target.name, str(path.relative_to(work)), name, outcome, detail)


@dataclass
class TargetSummary:
    """Counts of one target's outcomes, and the first few unacceptable cases."""

    target: str
    inputs: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    failures: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, case: Case, keep: int = 20) -> None:
        self.inputs += 1
        self.outcomes[case.outcome] += 1
        if case.outcome not in ACCEPTABLE and len(self.failures) < keep:
            self.failures.append(asdict(case))


@contextlib.contextmanager
def memory_cap(extra_bytes: int = 4 << 30) -> Iterator[None]:
    """Cap this process's address space at its current size plus ``extra_bytes`` while fuzzing (Linux), so
    that a mutated header that makes a decoder allocate gigabytes fails as MemoryError (a traceback in the
    counts) instead of exhausting the machine. Elsewhere: no cap."""
    try:
        import resource

        with open("/proc/self/status") as f:
            size_kb = next(int(line.split()[1]) for line in f if line.startswith("VmSize:"))
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = size_kb * 1024 + extra_bytes
        resource.setrlimit(resource.RLIMIT_AS, (min(cap, hard) if hard != resource.RLIM_INFINITY else cap, hard))
    except (ImportError, OSError, StopIteration, ValueError):
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@contextlib.contextmanager
def quiet(stderr: bool = False) -> Iterator[None]:
    """Silence what decoders say about the broken files they are given: warnings, tifffile's log, OpenCV's
    log and, with ``stderr``, everything C libraries (libpng, libjpeg) print on file descriptor 2."""
    import logging

    import cv2

    log = logging.getLogger("tifffile")
    level, cv_level = log.level, cv2.utils.logging.getLogLevel()
    saved_fd = os.dup(2) if stderr else None
    try:
        log.setLevel(logging.CRITICAL)
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        if saved_fd is not None:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        log.setLevel(level)
        cv2.utils.logging.setLogLevel(cv_level)
        if saved_fd is not None:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)


FUZZ_MAX_PIXELS = 2**22  # the samples are tiny: a larger declared size is a mutation, refused as a bomb


@contextlib.contextmanager
def pixel_limit(pixels: int) -> Iterator[None]:
    """``POLARAUG_MAX_PIXELS`` set to ``pixels`` in the block: the limit's logic is what fuzzing tests, at a
    size that keeps what one case may allocate (pixels x 64 channels x 8 bytes) under ``memory_cap``."""
    from polaraug.io.images import MAX_PIXELS_ENV

    saved = os.environ.get(MAX_PIXELS_ENV)
    os.environ[MAX_PIXELS_ENV] = str(pixels)
    try:
        yield
    finally:
        if saved is None:
            del os.environ[MAX_PIXELS_ENV]
        else:
            os.environ[MAX_PIXELS_ENV] = saved


def fuzz(targets: Iterable[Target], n: int, seed: int, work: str | os.PathLike,
         stderr_off: bool = False) -> dict[str, TargetSummary]:
    """``n`` cases spread evenly over ``targets`` (round robin), each from its own seeded generator.

    Args:
        targets: the readers to fuzz.
        n: the number of cases in all.
        seed: the run's seed; case i of target t draws from ``random.Random(f"{seed}/{t}/{i}")``.
        work: a scratch folder (valid samples and the case being read).
        stderr_off: also silence what C libraries print on stderr (see :func:`quiet`).

    Returns:
        {target name: its summary}.
    """
    targets = list(targets)
    work = Path(work)
    samples = Samples(work / "samples")
    summaries = {t.name: TargetSummary(t.name) for t in targets}
    warm_up(targets, samples)
    with memory_cap(), quiet(stderr_off), pixel_limit(FUZZ_MAX_PIXELS):
        for i in range(n):
            target = targets[i % len(targets)]
            start = time.perf_counter()
            case = run_case(target, samples, work / "case", random.Random(f"{seed}/{target.name}/{i}"))
            summaries[target.name].seconds += time.perf_counter() - start
            summaries[target.name].add(case)
    return summaries


def warm_up(targets: Iterable[Target], samples: Samples) -> None:
    """Write every target's sample and read it once, so that imports (torch) and first-use set-up happen
    before ``memory_cap`` measures the process: the cap then leaves the cases their whole margin.

    Raises:
        AssertionError: a target cannot read its own valid sample, or its result breaks its contract.
    """
    with quiet():
        for target in targets:
            problem = target.check(target.read(samples.template(target)))
            assert problem is None, f"{target.name}: the valid sample reads wrong: {problem}"
