"""Repairing a polarimetric set (``validate --fix`` / ``--repair project|reconstruct``).

``project`` maps inadmissible pixels onto the physical cone, y <- A Π_C(A† y); ``reconstruct`` rebuilds
every flagged pixel (saturated, dead, inadmissible) with a trained reconstruction model. Frames are
rewritten atomically, in place or into a copy of the set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from polaraug.cameras import Camera
from polaraug.data.polarset import PolarImage, stored_frame, write_frame
from polaraug.errors import ConfigError, InputError
from polaraug.io.atomic import copy_tree_atomically
from polaraug.io.capture import capture_from_array
from polaraug.io.significant import shifted_bits
from polaraug.physics import DEFAULT_TOLERANCE, analyze, repair_intensities
from polaraug.physics.quantize import quantize_admissible

from .stats import FrameReport, SetReport, flagged_pixels

REPAIRS = ("project", "reconstruct")
Fixer = Callable[[PolarImage, Camera, list[Path]], int]
Selector = Callable[[FrameReport], bool]


def fix_frame(frame: PolarImage, camera: Camera, dest: list[Path], tol: float = DEFAULT_TOLERANCE) -> int:
    """Project a frame's inadmissible pixels onto the cone, y <- A Π_C(A† y) (scaling, never clipping, pixels
    past the range), and write it. Every other pixel keeps its stored value bit for bit.

    Args:
        frame: a frame with (H, W, 4) integer images.
        camera: the set's camera.
        dest: where to write the frame's files (same count as ``frame.paths``).
        tol: admissibility tolerance in [0, 1] units, as the validation that selected the frame.

    Returns:
        The number of pixels changed (the frame is not rewritten when it is 0).
    """
    raw = stored_frame(frame, "--fix")
    bits = camera.bit_depth or 8 * raw.dtype.itemsize
    a = camera.matrix(np.float64)
    y = capture_from_array(raw, camera, path=frame.paths[0]).intensities
    bad = ~(np.asarray(analyze(y, camera.matrix(), tol=tol).violation) <= tol)  # (H, W): validate's own test
    if not bad.any():
        return 0
    fixed = raw.copy()
    fixed[bad] = quantize_admissible(repair_intensities(y[bad], a), a, bits).astype(raw.dtype)
    changed = int(np.count_nonzero((fixed != raw).any(axis=-1)))
    write_frame(dest, fixed, bits=shifted_bits(frame.paths[0]))  # stored as the frame was
    return changed


def has_inadmissible(f: FrameReport) -> bool:
    """Frames ``--repair project`` rewrites."""
    return f.inadmissible_fraction > 0


def has_flagged(f: FrameReport) -> bool:
    """Frames ``--repair reconstruct`` rewrites: any inadmissible, saturated or zero pixel."""
    return f.inadmissible_fraction > 0 or f.saturated_fraction > 0 or f.zero_fraction > 0


def fix_set(root: str | Path, report: SetReport, frames: list[PolarImage], camera: Camera, *,
            out: str | Path | None = None, fixer: Fixer | None = None,
            select: Selector | None = None) -> dict[str, int]:
    """Repair every selected frame of a set, in place or into ``out``.

    Args:
        root: the set's folder.
        report: the set's report (selects the frames).
        frames: the set's frames.
        camera: the set's camera.
        out: folder for a full copy of the set (same layout) holding the repaired frames; None or ``root``:
            in place.
        fixer: ``fixer(frame, camera, dest) -> changed pixels``; default :func:`fix_frame` (projection).
        select: which readable frames to repair; default :func:`has_inadmissible`.

    Returns:
        {frame name: changed pixels} of the frames rewritten.
    """
    fixer = fixer or fix_frame
    select = select or has_inadmissible
    root = Path(root)
    if out is not None:
        out = Path(out)
        if out.resolve() == root.resolve():
            out = None
        else:
            copy_tree_atomically(root, out)  # no part-copied file; stops at the first error
    base = out if out is not None else root
    bad = {f.name for f in report.frames if f.error is None and select(f)}
    changed = {}
    for frame in frames:
        if frame.name in bad:
            dest = [base / p.relative_to(root) for p in frame.paths]
            changed[frame.name] = fixer(frame, camera, dest)
    return changed


def repair_method(fix: bool, repair: str | None) -> str | None:
    """The repair asked for: ``--fix`` is ``--repair project``.

    Args:
        fix: ``--fix`` given.
        repair: ``--repair`` value or None.

    Returns:
        ``project`` when ``fix``, else ``repair`` (checked by :func:`repairer`).

    Raises:
        ConfigError: ``--fix`` with another ``--repair``.
    """
    if fix and repair not in (None, "project"):
        raise ConfigError("--fix is --repair project; pass one of them")
    return "project" if fix else repair


@dataclass
class Repairer:
    """How a repair rewrites frames: ``fixer`` and ``select`` for :func:`fix_set`."""

    fixer: Fixer | None
    select: Selector | None


def repairer(method: str, camera: Camera, *, checkpoint: str | Path | None = None,
             tol: float | None = None) -> Repairer:
    """The fixer and frame selector of a repair method.

    Args:
        method: ``project`` or ``reconstruct``.
        camera: the set's camera (a reconstruction model must have been trained for it).
        checkpoint: reconstruction checkpoint (``reconstruct`` only, required there).
        tol: admissibility tolerance of ``reconstruct`` (None: the default).

    Returns:
        The repairer; ``project`` has the defaults of :func:`fix_set`.

    Raises:
        ConfigError: unknown method, or ``reconstruct`` without a checkpoint.
        InputError: a checkpoint of an RGB model or of another camera.
    """
    if method == "project":
        def project(frame: PolarImage, camera: Camera, dest: list[Path]) -> int:
            return fix_frame(frame, camera, dest, DEFAULT_TOLERANCE if tol is None else tol)

        return Repairer(project, None)
    if method != "reconstruct":
        raise ConfigError(f"--repair must be project or reconstruct, got {method!r}")
    if checkpoint is None:
        raise ConfigError("--repair reconstruct needs --checkpoint (train one with 'polaraug reconstruct train')")
    model = load_repair_model(checkpoint, camera)

    def fixer(frame: PolarImage, camera: Camera, dest: list[Path]) -> int:
        return reconstruct_frame(model, frame, camera, dest, tol)

    return Repairer(fixer, has_flagged)


def reconstruct_frame(model, frame: PolarImage, camera: Camera, dest: list[Path], tol: float | None = None) -> int:
    """Rebuild the flagged pixels (saturated, dead, inadmissible) of a stored frame from the rest.

    Args:
        model: a 4-channel :class:`~polaraug.reconstruct.model.Reconstructor` for ``camera``.
        frame: the stored polarimetric frame.
        camera: the set's camera.
        dest: where to write the repaired frame (the frame's own files for an in-place repair).
        tol: admissibility tolerance (None: the default).

    Returns:
        The number of rebuilt pixels (0: nothing written). Every other pixel keeps its stored value.
    """
    from polaraug.reconstruct import fill_stored

    raw = stored_frame(frame, "--repair reconstruct")
    flagged = flagged_pixels(raw, camera, DEFAULT_TOLERANCE if tol is None else tol, path=frame.paths[0])
    if not flagged.any():
        return 0
    filled, _ = fill_stored(model, raw, ~flagged, camera)
    write_frame(dest, filled, bits=shifted_bits(frame.paths[0]))
    return int(np.count_nonzero(flagged))


def load_repair_model(checkpoint: str | Path, camera: Camera):
    """A reconstruction model fit to repair a set of ``camera``, in eval mode.

    Args:
        checkpoint: checkpoint from ``polaraug reconstruct train``.
        camera: the set's camera.

    Returns:
        The model (a 4-channel ``Reconstructor``).

    Raises:
        InputError: an RGB model, or one trained for another calibration matrix.
    """
    from polaraug.reconstruct import load_reconstructor

    model, _ = load_reconstructor(checkpoint)
    if model.cfg.channels != 4:
        raise InputError(f"{checkpoint}: an RGB reconstruction model; polarimetric repair needs a 4-channel one")
    if not np.allclose(model.g.a.numpy(), camera.matrix(), atol=1e-5):
        raise InputError(f"{checkpoint}: trained for another camera (calibration matrix differs from the set's)")
    return model
