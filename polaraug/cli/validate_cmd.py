"""``polaraug validate``: statistics, thresholds, plots and repair of a polarimetric set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._errors import user_errors


def validate(
    folder: Annotated[Path, typer.Argument(help="Polarimetric set: polaraug layout, per-angle (mono or RGB), "
                                                "4-channel, DoFP.")],
    calibration: Annotated[str | None, typer.Option(help="Camera file (default: the set's manifest, else ideal; "
                                                         "required for raw DoFP).")] = None,
    layout: Annotated[str, typer.Option(help="auto, polaraug, angle-folders, angle-suffix, colour-angle-suffix, "
                                             "four-channel, dofp.")]
    = "auto",
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the full report (per frame) as JSON.")] = None,
    plots: Annotated[Path | None, typer.Option(help="Folder for histograms and the worst frames' maps.")] = None,
    max_inadmissible: Annotated[float | None, typer.Option(help="Fail above this inadmissible pixel fraction.")]
    = None,
    max_residual: Annotated[float | None, typer.Option(help="Fail above this residual RMS ([0, 1] units).")] = None,
    max_dolp_above_1: Annotated[float | None, typer.Option(help="Fail above this fraction of DoLP > 1.")] = None,
    max_saturated: Annotated[float | None, typer.Option(help="Fail above this saturated pixel fraction.")] = None,
    max_unreadable: Annotated[int | None, typer.Option(help="Fail with more unreadable frames (default 0, "
                                                            "none with --skip-bad).")] = None,
    ood_model: Annotated[Path | None, typer.Option(help="Score every frame with this out-of-distribution model "
                                                        "('polaraug ood train' or 'ood export'): per-frame "
                                                        "scores, the highest listed (and pictured with "
                                                        "--plots).")] = None,
    max_ood: Annotated[float | None, typer.Option(help="Fail above this mean OOD score (needs --ood-model).")]
    = None,
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
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Report unreadable frames and check the rest "
                                                              "(without it, an unreadable frame fails the run).")]
    = False,
) -> None:
    """Check a polarimetric set: calibration residual, admissibility, DoLP/AoLP, saturation. Exit 1 when a
    threshold is exceeded."""
    from polaraug.validate import run_validation

    limits = {"max_inadmissible": max_inadmissible, "max_residual": max_residual,
              "max_dolp_above_1": max_dolp_above_1, "max_saturated": max_saturated, "max_unreadable": max_unreadable,
              "max_ood": max_ood}
    with user_errors():
        result = run_validation(folder, calibration=calibration, layout=layout, tolerance=tolerance, workers=workers,
                                limits=limits, fix=fix, repair=repair, checkpoint=checkpoint, out=out,
                                json_out=json_out, plots=plots, log=typer.echo, skip_bad=skip_bad,
                                ood_model=ood_model)
    for line in result.report.lines():
        typer.echo(line)
    if result.failures:
        for f in result.failures:
            typer.secho(f"FAIL {f}", err=True, fg=typer.colors.RED)
            if f.startswith("max-unreadable") and max_unreadable is None:
                typer.secho("     (--skip-bad checks the readable frames and reports the others)", err=True)
        raise typer.Exit(1)
    typer.echo(result.verdict)
