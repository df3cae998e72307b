"""``polaraug ood train|export|filter``: the out-of-distribution model ``validate --ood-model`` scores frames
with, and a set without its most out-of-distribution frames."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ._errors import user_errors

app = typer.Typer(help="Score how far polarimetric frames are from the real domain (a discriminator trained on "
                       "real against generated frames).", no_args_is_help=True)


def _open(folder: Path, calibration: str | None):
    """(folder, camera, frames) of a polarimetric set (camera: --calibration, else the set's own)."""
    from polaraug.data.camera_choice import resolve_camera
    from polaraug.validate.runner import open_set

    opened = open_set(folder, resolve_camera(calibration) if calibration else None)
    return folder, opened.camera, opened.frames


@app.command("train")
def train(
    real: Annotated[Path, typer.Option(help="Real polarimetric frames (any layout validate reads).")],
    generated: Annotated[list[Path], typer.Option(help="Generated (translated) sets; repeat for a history of "
                                                       "several translators or checkpoints.")],
    out: Annotated[Path, typer.Option(help="The model file to write (for validate --ood-model).")],
    calibration: Annotated[str | None, typer.Option(help="Camera of the real set when it has no manifest "
                                                         "(required for raw DoFP).")] = None,
    steps: Annotated[int, typer.Option(help="Training steps.")] = 600,
    crop: Annotated[int, typer.Option(help="Crop size.")] = 64,
    batch: Annotated[int, typer.Option(help="Crops per step, half real, half generated.")] = 16,
    holdout: Annotated[float, typer.Option(help="Last share of each set's frames held out for the ROC AUC.")] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed for initialisation and sampling.")] = 0,
    device: Annotated[str | None, typer.Option(help="cuda, cpu, ... (default: CUDA when present).")] = None,
) -> None:
    """Train a real-vs-generated classifier; prints its ROC AUC on held-out frames and writes OUT and OUT.json."""
    from polaraug.io.atomic import write_text
    from polaraug.ood import OODSettings, save_ood, train_ood

    with user_errors():
        settings = OODSettings(steps=steps, crop=crop, batch=batch, holdout=holdout, seed=seed)
        model, report = train_ood(_open(real, calibration), [_open(g, None) for g in generated], settings,
                                  device=device)
        save_ood(model, out)
        write_text(out.with_name(out.name + ".json"), json.dumps(report, indent=2) + "\n")
    h = report["heldout"]
    typer.echo(f"held-out ROC AUC {h['auc']:.3f} ({h['real_frames']} real, {h['generated_frames']} generated "
               f"frames; mean score real {h['real_mean']:.3f}, generated {h['generated_mean']:.3f})")
    typer.echo(f"wrote {out}")


@app.command("export")
def export(
    checkpoint: Annotated[Path, typer.Argument(help="A CycleGAN translator checkpoint.")],
    out: Annotated[Path, typer.Option(help="The model file to write (for validate --ood-model).")],
) -> None:
    """Save a CycleGAN translator's polarimetric discriminator (trained against a pool of its past outputs) as
    an OOD model."""
    from polaraug.ood import export_from_translator, save_ood

    with user_errors():
        save_ood(export_from_translator(checkpoint), out)
    typer.echo(f"wrote {out}")


@app.command("filter")
def filter_cmd(
    src: Annotated[Path, typer.Argument(help="A polaraug-layout set (e.g. translate output).")],
    out: Annotated[Path, typer.Argument(help="The filtered set (a new folder).")],
    model: Annotated[Path, typer.Option(help="The OOD model ('ood train' or 'ood export').")],
    drop: Annotated[float | None, typer.Option(help="Drop this share of frames, the highest-scoring.")] = None,
    max_ood: Annotated[float | None, typer.Option(help="Drop frames scoring above this.")] = None,
) -> None:
    """Write SRC without its most out-of-distribution frames into OUT (images hard-linked, labels and
    manifest rewritten, every score in OUT/ood_scores.json); SRC is not modified."""
    from polaraug.ood import load_ood
    from polaraug.ood.filter import filter_set

    with user_errors():
        doc = filter_set(src, out, load_ood(model), drop=drop, max_ood=max_ood)
    typer.echo(f"kept {doc['kept']} frames, dropped {doc['dropped']}; wrote {out}")
