"""``polaraug validate`` as one library call: open and check a set, optionally repair it and check the
result, write the JSON report and plots, apply the thresholds."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from polaraug.cameras import Camera
from polaraug.data.camera_choice import resolve_camera
from polaraug.data.polarset import finish_interrupted_writes
from polaraug.errors import ConfigError, InputError
from polaraug.io.atomic import write_text
from polaraug.io.lock import output_lock
from polaraug.ood import load_ood, score_frames
from polaraug.physics import DEFAULT_TOLERANCE

from .gates import check_thresholds, verdict
from .plots import write_plots
from .repair import fix_set, repair_method, repairer
from .runner import OpenedSet, open_set, validate_frames
from .stats import SetReport

PER_ANGLE = ("angle-folders", "angle-suffix")  # the layouts whose repairs write several files a frame


@dataclass
class ValidationRun:
    """What a validation run found: the (final) report, threshold failures and the verdict."""

    report: SetReport
    failures: list[str] = field(default_factory=list)
    verdict: str = "done"  # FAIL, PASS or done (no limits)
    changed: dict[str, int] | None = None  # repaired frames: {name: changed pixels}


@dataclass
class RepairRequest:
    """A ``--fix`` / ``--repair`` request."""

    method: str  # project or reconstruct
    checkpoint: str | Path | None = None
    out: str | Path | None = None  # repaired copy; None: in place


def _limits_and_ood(limits: Mapping[str, float | None] | None, ood_model, skip_bad: bool):
    """The thresholds in force (unreadable frames fail the run unless skipped) and the OOD model, loaded before
    any work so that a bad file fails early.

    Raises:
        ConfigError: ``max_ood`` without a model.
    """
    limits = dict(limits or {})
    if limits.get("max_ood") is not None and ood_model is None:
        raise ConfigError("--max-ood needs --ood-model (the model that scores the frames)")
    if not skip_bad and limits.get("max_unreadable") is None:
        limits["max_unreadable"] = 0
    return limits, (load_ood(ood_model) if ood_model is not None else None)


def _first_pass(folder, opened, tolerance: float, workers: int | None, progress: bool):
    """The report of the set as found.

    Raises:
        InputError: no frame of the set can be read.
    """
    report = validate_frames(folder, *opened, tol=tolerance, workers=workers, progress=progress)
    if report.frames and all(f.error is not None for f in report.frames):
        raise InputError(f"{folder}: no readable frame ({len(report.frames)} unreadable; first: "
                         f"{report.frames[0].error})")
    return report


def _score_ood(report, ood, opened, folder) -> None:
    """Every frame's out-of-distribution score into the report.

    Raises:
        InputError: no frame could be scored.
    """
    for fr, score in zip(report.frames, score_frames(ood, opened.frames, opened.camera), strict=True):
        fr.ood = score
    if all(f.ood is None for f in report.frames):
        raise InputError(f"{folder}: no frame could be scored by the OOD model (unreadable, or under "
                         f"{ood.min_side} px a side)")


def _write_outputs(report, opened, json_out, plots, method: str | None, changed: dict | None) -> None:
    """The JSON report (with what a repair did, per frame) and the plots, when asked for."""
    if json_out:
        doc = report.to_dict()
        if changed is not None:  # what the repair did, per frame: the report is of the repaired set
            doc["repair"] = {"method": method, "frames": len(changed), "changed_pixels": sum(changed.values()),
                             "changed_pixels_per_frame": changed}
        write_text(json_out, json.dumps(doc, indent=1) + "\n")
    if plots:
        write_plots(report, opened.frames, opened.camera, plots)


def run_validation(folder: str | Path, *, calibration: str | Path | Camera | None = None, layout: str = "auto",
                   tolerance: float = DEFAULT_TOLERANCE, workers: int | None = None,
                   limits: Mapping[str, float | None] | None = None, fix: bool = False, repair: str | None = None,
                   checkpoint: str | Path | None = None, out: str | Path | None = None,
                   json_out: str | Path | None = None, plots: str | Path | None = None, progress: bool = True,
                   log: Callable[[str], None] | None = None, skip_bad: bool = False,
                   ood_model: str | Path | None = None) -> ValidationRun:
    """Check a polarimetric set (what ``polaraug validate`` does, without printing the report).

    Args:
        folder: the set (any layout ``scan_polarimetric`` knows).
        calibration: camera file or built-in name (or a Camera); None: see
            :func:`polaraug.validate.runner.open_set`.
        layout: layout, or ``auto``.
        tolerance: admissibility tolerance in [0, 1] units.
        workers: worker processes (default: one per core).
        limits: threshold option name (see ``THRESHOLDS``) -> limit or None.
        fix: ``--fix``, the same as ``repair="project"``.
        repair: ``project`` or ``reconstruct`` (needs ``checkpoint``); None: no repair.
        checkpoint: reconstruction checkpoint for ``repair="reconstruct"``.
        out: with a repair, write a repaired copy here instead of in place.
        json_out: write the full report (per frame) as JSON here.
        plots: folder for histograms and the worst frames' maps.
        progress: show a progress bar for the first pass.
        log: receives a line about the repair as soon as it is done.
        skip_bad: unreadable frames are reported and skipped; without it any unreadable frame fails the run
            (``max_unreadable`` defaults to 0), unless ``limits`` sets another limit.
        ood_model: an OOD model file (``polaraug ood train`` / ``ood export``): every frame gets its score,
            the set its mean (the ``max_ood`` limit) and, with ``plots``, pictures of the highest-scoring frames.

    Returns:
        The run: the report of the repaired set when repaired, else of ``folder``.

    Raises:
        InputError: bad options, sets, checkpoints or files (ConfigError for option values), or a set of
            which no frame can be read.
    """
    limits, ood = _limits_and_ood(limits, ood_model, skip_bad)
    camera = resolve_camera(calibration) if calibration else None  # explicit camera, else per set
    opened = open_set(folder, camera, layout)  # scanned once, used by every step (hidden temporaries excluded)
    if opened.layout in PER_ANGLE:  # only per-angle repairs journal: finish any a crash interrupted, before reading
        for root in (folder, out):
            if root is not None and Path(root).is_dir():
                finish_interrupted_writes(root)
    report = _first_pass(folder, opened, tolerance, workers, progress)
    method = repair_method(fix, repair)
    changed = None
    if method is not None:
        with output_lock(out or folder, f"polaraug validate --repair {method}"):
            changed = repair_set(folder, opened, report, RepairRequest(method, checkpoint, out), tol=tolerance)
        if log is not None:
            log(f"fixed {len(changed)} frames ({sum(changed.values())} pixels changed, {method})"
                + (f" into {out}" if out else " in place"))
        opened = open_set(out or folder, camera, layout)  # the report is of the repaired set
        report = validate_frames(out or folder, *opened, tol=tolerance, workers=workers)
    if ood is not None:
        _score_ood(report, ood, opened, folder)
    _write_outputs(report, opened, json_out, plots, method, changed)
    failures = check_thresholds(report, limits)
    return ValidationRun(report, failures, verdict(failures, limits), changed)


def repair_set(folder: str | Path, opened: OpenedSet, report: SetReport, request: RepairRequest, *,
               tol: float = DEFAULT_TOLERANCE) -> dict[str, int]:
    """Repair a checked set as requested.

    Args:
        folder: the set's folder.
        opened: the set as opened by :func:`open_set`.
        report: its report (selects the frames).
        request: method, checkpoint and output folder.
        tol: admissibility tolerance in [0, 1] units.

    Returns:
        {frame name: changed pixels} of the frames rewritten.

    Raises:
        InputError: a raw DoFP set, or a checkpoint that does not fit (ConfigError: bad method, no checkpoint).
    """
    if opened.camera.gain_map is not None:
        raise InputError(f"{folder}: its camera '{opened.camera.name}' has a gain map: repaired values would be "
                         "written in flat-fielded units into raw storage; repair without the gain map")
    if opened.layout == "colour-angle-suffix":
        raise InputError(f"{folder}: colour polarization sets are checked, not repaired (a repair would have to "
                         "rewrite the colours jointly)")
    if opened.layout == "dofp":
        raise InputError(f"{folder}: raw DoFP mosaics cannot be repaired (re-demosaicing mixes repaired "
                         "neighbours); demosaic the set first")
    how = repairer(request.method, opened.camera, checkpoint=request.checkpoint, tol=tol)
    return fix_set(folder, report, opened.frames, opened.camera, out=request.out, fixer=how.fixer,
                   select=how.select)
