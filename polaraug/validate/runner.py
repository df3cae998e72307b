"""Scanning a polarimetric set and computing every frame's statistics in worker processes.

Only the small per-frame :class:`FrameReport` comes back from a worker, so memory stays flat however
large the set. Each worker receives the camera and tolerance once (pool initializer), not per frame.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from polaraug.cameras import Camera
from polaraug.data.camera_choice import resolve_camera
from polaraug.data.polarset import PolarImage, scan_polarimetric
from polaraug.io.parallel import process_pool
from polaraug.physics import DEFAULT_TOLERANCE

from .stats import FrameReport, SetReport, frame_report, prepare_kernel

IDEAL = Camera(name="ideal")
SERIAL_BELOW = 4  # fewer frames than this: no worker processes


class OpenedSet(NamedTuple):
    """A scanned set: its layout, frames (name order) and camera. Unpacks as ``(layout, frames, camera)``."""

    layout: str
    frames: list[PolarImage]
    camera: Camera


def open_set(root: str | Path, camera: Camera | None, layout: str = "auto") -> OpenedSet:
    """Frames and camera of a set.

    Args:
        root: the set's folder.
        camera: explicit camera, or None: polaraug's manifest camera (with its bit depth) for polaraug
            sets, the ideal camera for other layouts; raw DoFP mosaics need an explicit one.
        layout: one of ``polaraug.data.polarset.LAYOUTS``.

    Returns:
        The opened set.

    Raises:
        InputError: a DoFP set without a camera.
    """
    found, frames = scan_polarimetric(root, layout)
    camera = resolve_camera(
        camera, root if found == "polaraug" else None, default=None if found == "dofp" else IDEAL,
        missing=f"{root}: raw DoFP mosaics need --calibration (a camera with a dofp_pattern)")
    return OpenedSet(found, frames, camera)


_WORKER_JOB: tuple[Camera, float] | None = None  # (camera, tolerance) of this process's frames


def _init_worker(camera: Camera, tol: float) -> None:
    global _WORKER_JOB
    _WORKER_JOB = (camera, tol)


def _report(frame: PolarImage) -> FrameReport:
    """The frame's report, or one with ``error`` set when the frame cannot be read."""
    camera, tol = _WORKER_JOB if _WORKER_JOB is not None else (None, DEFAULT_TOLERANCE)
    try:
        return frame_report(frame.name, frame.read(), camera, tol)
    except (ValueError, OSError) as e:
        return FrameReport(frame.name, error=str(e))


def validate(root: str | Path, camera: Camera | None = None, layout: str = "auto", *,
             tol: float = DEFAULT_TOLERANCE, workers: int | None = None, progress: bool = False) -> SetReport:
    """Statistics of every frame (in parallel, in order) and of the set.

    Args:
        root: the set's folder (any layout ``scan_polarimetric`` knows).
        camera: explicit camera; None: see :func:`open_set`.
        layout: layout, or ``auto``.
        tol: admissibility tolerance in [0, 1] units.
        workers: worker processes (default: one per core, at most 8).
        progress: show a progress bar.

    Returns:
        The set's report.
    """
    found, frames, cam = open_set(root, camera, layout)
    return validate_frames(root, found, frames, cam, tol=tol, workers=workers, progress=progress)


def validate_frames(root: str | Path, layout: str, frames: list[PolarImage], camera: Camera, *,
                    tol: float = DEFAULT_TOLERANCE, workers: int | None = None, progress: bool = False) -> SetReport:
    """:func:`validate` on a set already opened with :func:`open_set`.

    Args:
        root: the set's folder (recorded in the report).
        layout: the layout found.
        frames: the frames to report on, in order.
        camera: the set's camera.
        tol: admissibility tolerance in [0, 1] units.
        workers: worker processes (default: one per core, at most 8); 1 or few frames: in this process.
        progress: show a progress bar.

    Returns:
        The set's report, frames in the given order.
    """
    from tqdm import tqdm

    workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
    prepare_kernel(camera)  # before forking: the workers inherit the compiled kernel
    bar = {"disable": not progress, "unit": "frame", "desc": "validate"}
    if workers <= 1 or len(frames) < SERIAL_BELOW:
        _init_worker(camera, tol)
        reports = [_report(f) for f in tqdm(frames, **bar)]
    else:
        with process_pool(workers, _init_worker, (camera, tol)) as pool:
            reports = list(tqdm(pool.imap(_report, frames, chunksize=4), total=len(frames), **bar))
    return SetReport(str(root), layout, camera.name, tol, reports)
