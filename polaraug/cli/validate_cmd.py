"""``polaraug validate``: statistics, thresholds, plots and repair of a polarimetric set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ._errors import user_errors


def validate(
    folder: Annotated[Path, typer.Argument(help="Polarimetric set: polaraug layout, per-angle, 4-channel, DoFP.")],
    calibration: Annotated[str | None, typer.Option(help="Camera file (default: the set's manifest, else ideal; "
                                                         "required for raw DoFP).")] = None,
    layout: Annotated[str, typer.Option(help="auto, polaraug, angle-folders, angle-suffix, four-channel, dofp.")]
    = "auto",
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the full report (per frame) as JSON.")] = None,
    plots: Annotated[Path | None, typer.Option(help="Folder for histograms and the worst frames' maps.")] = None,
    max_inadmissible: Annotated[float | None, typer.Option(help="Fail above this inadmissible pixel fraction.")]
    = None,
    max_residual: Annotated[float | None, typer.Option(help="Fail above this residual RMS ([0, 1] units).")] = None,
    max_dolp_above_1: Annotated[float | None, typer.Option(help="Fail above this fraction of DoLP > 1.")] = None,
    max_saturated: Annotated[float | None, typer.Option(help="Fail above this saturated pixel fraction.")] = None,
    max_unreadable: Annotated[int | None, typer.Option(help="Fail with more unreadable frames.")] = None,
    tolerance: Annotated[float, typer.Option(help="Admissibility tolerance in [0, 1] units.")] = 1e-6,
    fix: Annotated[bool, typer.Option("--fix", help="Repair frames with inadmissible pixels (atomic writes); "
                                                   "the same as --repair project.")] = False,
    repair: Annotated[str | None, typer.Option(help="project: project inadmissible pixels onto the cone; "
                                                    "reconstruct: rebuild flagged pixels (saturated, dead, "
                                                    "inadmissible) with --checkpoint.")] = None,
    checkpoint: Annotated[Path | None, typer.Option(help="Reconstruction checkpoint for --repair reconstruct "
                                                         "(from 'polaraug reconstruct train').")] = None,
    out: Annotated[Path | None, typer.Option(help="With --fix/--repair: write a repaired copy here instead of in "
                                                  "place.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: one per core).")] = None,
) -> None:
    """Check a polarimetric set: calibration residual, admissibility, DoLP/AoLP, saturation. Exit 1 when a
    threshold is exceeded."""
    from polaraug.cameras import load_camera
    from polaraug.io.atomic import write_text
    from polaraug.validation import check_thresholds, fix_set, open_set, validate_frames, write_plots

    with user_errors():
        camera = load_camera(calibration) if calibration else None
        found, frames, cam = open_set(folder, camera, layout)  # scanned once, used by every step
        report = validate_frames(folder, found, frames, cam, tolerance, workers, progress=True)
        if fix and repair not in (None, "project"):
            raise ValueError("--fix is --repair project; pass one of them")
        repair = "project" if fix else repair
        if repair is not None:
            if found == "dofp":
                raise ValueError(f"{folder}: raw DoFP mosaics cannot be repaired (re-demosaicing mixes repaired "
                                 "neighbours); demosaic the set first")
            fixer, select = _repairer(repair, checkpoint, tolerance, cam)
            changed = fix_set(folder, report, frames, cam, out, fixer, select)
            typer.echo(f"fixed {len(changed)} frames ({sum(changed.values())} pixels changed, {repair})"
                       + (f" into {out}" if out else " in place"))
            target = out or folder
            found, frames, cam = open_set(target, camera, layout)
            report = validate_frames(target, found, frames, cam, tolerance, workers)
        if json_out:
            write_text(json_out, json.dumps(report.to_dict(), indent=1) + "\n")
        if plots:
            write_plots(report, frames, cam, plots)
    for line in report.lines():
        typer.echo(line)
    failures = check_thresholds(report, {"max_inadmissible": max_inadmissible, "max_residual": max_residual,
                                         "max_dolp_above_1": max_dolp_above_1, "max_saturated": max_saturated,
                                         "max_unreadable": max_unreadable})
    if failures:
        for f in failures:
            typer.secho(f"FAIL {f}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1)
    typer.echo("PASS" if any(v is not None for v in (max_inadmissible, max_residual, max_dolp_above_1,
                                                      max_saturated, max_unreadable)) else "done")


def _repairer(repair: str, checkpoint: Path | None, tol: float, camera):
    """(fixer, frame selector) for fix_set."""
    if repair == "project":
        return None, None
    if repair != "reconstruct":
        raise ValueError(f"--repair must be project or reconstruct, got {repair!r}")
    if checkpoint is None:
        raise ValueError("--repair reconstruct needs --checkpoint (train one with 'polaraug reconstruct train')")
    from polaraug.reconstruct.apply import reconstruct_frame
    from polaraug.reconstruct.checkpoint import load_checkpoint

    model, _ = load_checkpoint(checkpoint)
    if model.cfg.channels != 4:
        raise ValueError(f"{checkpoint}: an RGB reconstruction model; polarimetric repair needs a 4-channel one")
    import numpy as np

    if not np.allclose(model.g.a.numpy(), camera.matrix(), atol=1e-5):
        raise ValueError(f"{checkpoint}: trained for another camera (calibration matrix differs from the set's)")
    model.eval()

    def flagged(f) -> bool:
        return f.inadmissible_fraction > 0 or f.saturated_fraction > 0 or f.zero_fraction > 0

    def fixer(frame, camera, dest) -> int:
        return reconstruct_frame(model, frame, camera, dest, tol)

    return fixer, flagged
