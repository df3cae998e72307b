"""``polaraug eval-detection``: measure the AP gain of synthetic polarimetric training data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._errors import user_errors


def eval_detection(
    real_train: Annotated[Path, typer.Option(help="Real labelled polarimetric set (polaraug layout).")],
    real_test: Annotated[Path, typer.Option(help="Real test set (polaraug layout), the same for both arms.")],
    synthetic: Annotated[Path, typer.Option(help="Translated set from 'polaraug translate'.")],
    rgb_train: Annotated[Path | None, typer.Option(help="Optional RGB reference arm: labelled RGB training set "
                                                        "(BDD100K or KITTI layout), e.g. synth's paired rgb/.")]
    = None,
    rgb_test: Annotated[Path | None, typer.Option(help="RGB test set for the reference arm (the RGB twins of "
                                                       "--real-test for a like-for-like comparison).")] = None,
    out: Annotated[Path, typer.Option(help="Output folder: datasets/, runs/, results.json, report.md.")]
    = Path("eval_detection"),
    encoding: Annotated[str, typer.Option(help="intensities, stokes, i0-i45-i90 or hsv.")] = "intensities",
    protocol: Annotated[str, typer.Option(help="mix or pretrain-finetune.")] = "mix",
    mix_ratio: Annotated[float, typer.Option(help="Synthetic frames per real frame (mix).")] = 1.0,
    seeds: Annotated[int, typer.Option(help="Repeats per arm.")] = 3,
    model: Annotated[str, typer.Option(help="Ultralytics model YAML (built from scratch).")] = "yolov8n.yaml",
    weights: Annotated[str | None, typer.Option(help="Local weights to start from (never downloaded).")] = None,
    epochs: Annotated[int, typer.Option(help="Epochs per training (CPU demo default; GPU: ~100).")] = 10,
    imgsz: Annotated[int, typer.Option(help="Image size (CPU demo default; GPU: 640).")] = 160,
    batch: Annotated[int, typer.Option(help="Batch size.")] = 8,
    device: Annotated[str | None, typer.Option(help="cpu, 0, 0,1, ... (default: cpu).")] = None,
    equal_steps: Annotated[bool, typer.Option(help="mix: repeat the real arm's images to the mixed set's size, "
                                                   "so both arms take the same optimizer steps (separates "
                                                   "'more data' from 'more steps').")] = False,
) -> None:
    """Train YOLO on real vs real + synthetic data (same settings, several seeds) and report the gain."""
    from polaraug.detect.evaluation import DetectionSettings
    from polaraug.detect.evaluation import eval_detection as run
    from polaraug.detect.report import format_relative, report_lines

    with user_errors():
        settings = DetectionSettings(encoding=encoding, protocol=protocol, mix_ratio=mix_ratio,
                                     seeds=tuple(range(seeds)), model=model, weights=weights, epochs=epochs,
                                     imgsz=imgsz, batch=batch, device=device, equal_steps=equal_steps)
        results = run(real_train, real_test, synthetic, out, settings=settings, rgb_train=rgb_train,
                      rgb_test=rgb_test)
    typer.echo("\n".join(report_lines(results)))
    g = results["gain_map50"]
    rel = format_relative(g)
    typer.echo(f"gain mAP50 {g['absolute']:+.4f} ({rel}); report {out / 'report.md'}")
