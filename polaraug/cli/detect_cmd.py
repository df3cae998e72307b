"""``polaraug eval-detection``: does generated polarimetric data help a detector (arms, bounds, intervals)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from polaraug.errors import ConfigError

from ._errors import user_errors


def _named_sets(values: list[str]) -> dict[str, Path]:
    """``NAME=PATH`` (or a bare PATH, named after its folder) -> {name: path}."""
    sets: dict[str, Path] = {}
    for v in values:
        name, sep, path = v.partition("=")
        name, path = (name, path) if sep else (Path(v).name, v)
        if name in sets:
            raise ConfigError(f"--synthetic: the name {name!r} is given twice")
        sets[name] = Path(path)
    return sets


def _classes(value: str | None) -> tuple[str, ...] | None:
    return tuple(c.strip() for c in value.split(",") if c.strip()) if value else None


def eval_detection(
    real_train: Annotated[Path, typer.Option(help="Real labelled polarimetric set (polaraug layout).")],
    real_test: Annotated[Path, typer.Option(help="Real test set (polaraug layout), the same for every arm.")],
    synthetic: Annotated[list[str] | None, typer.Option(help="NAME=PATH of a translated set (repeatable: one arm "
                                                             "real+NAME each).")] = None,
    oracle: Annotated[Path | None, typer.Option(help="True polarimetric twins of the translated frames (same "
                                                     "frame names, e.g. synth --mode paired's polar/): the "
                                                     "real+oracle upper bound.")] = None,
    control: Annotated[list[str] | None, typer.Option(help="Synthetic set (or 'oracle') whose depolarized copy "
                                                           "(same s0, DoLP 0) is a control arm; repeatable; "
                                                           "'none' for no control (default: the first "
                                                           "--synthetic).")] = None,
    real_val: Annotated[Path | None, typer.Option(help="Real validation split: validate every epoch, score each "
                                                       "arm's best epoch, show the plateau.")] = None,
    rgb_train: Annotated[Path | None, typer.Option(help="Optional RGB reference arm: labelled RGB training set "
                                                        "(BDD100K or KITTI layout), e.g. synth's paired rgb/.")]
    = None,
    rgb_test: Annotated[Path | None, typer.Option(help="RGB test set for the reference arm (the RGB twins of "
                                                       "--real-test for a like-for-like comparison).")] = None,
    out: Annotated[Path, typer.Option(help="Output folder: datasets/, runs/, results.json, report.md, charts.")]
    = Path("eval_detection"),
    encoding: Annotated[str, typer.Option(help="intensities, stokes, i0-i45-i90 or hsv.")] = "intensities",
    protocol: Annotated[str, typer.Option(help="mix or pretrain-finetune.")] = "mix",
    ratio: Annotated[list[float] | None, typer.Option(help="Extra frames per real frame (repeat for a sweep, "
                                                           "e.g. --ratio 0.5 --ratio 1 --ratio 2).")] = None,
    budget: Annotated[str, typer.Option(help="equal-steps (every arm the same images per epoch) or "
                                             "equal-epochs.")] = "equal-steps",
    seeds: Annotated[int, typer.Option(help="Repeats per arm (≥ 3 for intervals worth reading).")] = 3,
    classes: Annotated[str | None, typer.Option(help="Comma-separated canonical classes to detect, e.g. "
                                                     "car,truck,bus (default: all).")] = None,
    model: Annotated[str, typer.Option(help="Ultralytics model YAML (built from scratch).")] = "yolov8n.yaml",
    weights: Annotated[str | None, typer.Option(help="Local weights to start from (never downloaded).")] = None,
    epochs: Annotated[int, typer.Option(help="Epochs per training (CPU demo default; GPU: ~100).")] = 10,
    patience: Annotated[int, typer.Option(help="With --real-val: stop after this many epochs without "
                                               "improvement.")] = 100,
    imgsz: Annotated[int, typer.Option(help="Image size (CPU demo default; GPU: 640).")] = 160,
    batch: Annotated[int, typer.Option(help="Batch size.")] = 8,
    device: Annotated[str | None, typer.Option(help="cpu, 0, 0,1, ... (default: cpu).")] = None,
) -> None:
    """Train YOLO on real data alone and with each generated set (same settings, steps and seeds), with an
    oracle upper bound and an unpolarized control; report gains with 95 % intervals."""
    from polaraug.detect.arms import ExperimentInputs
    from polaraug.detect.evaluation import DetectionSettings
    from polaraug.detect.evaluation import eval_detection as run
    from polaraug.detect.report import report_lines, summary_lines

    with user_errors():
        sets = _named_sets(synthetic or [])
        chosen = [c for c in (control or [])]
        controls = () if chosen == ["none"] else tuple(chosen) if chosen else tuple(list(sets)[:1])
        inputs = ExperimentInputs(real_train, real_test, sets, oracle, controls, real_val, rgb_train, rgb_test)
        settings = DetectionSettings(encoding=encoding, protocol=protocol, ratios=tuple(ratio or (1.0,)),
                                     budget=budget, seeds=tuple(range(seeds)), model=model, weights=weights,
                                     epochs=epochs, imgsz=imgsz, batch=batch, device=device,
                                     classes=_classes(classes), patience=patience)
        results = run(inputs, out, settings=settings)
    typer.echo("\n".join(report_lines(results)))
    typer.echo("\n".join(summary_lines(results)))
    typer.echo(f"report {out / 'report.md'}")
