"""``polaraug eval-detection``: does generated polarimetric data help a detector (arms, bounds, intervals)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from polaraug.errors import ConfigError, InputError

from ._errors import user_errors


def _named_sets(values: list[str], option: str = "--synthetic") -> dict[str, Path]:
    """``NAME=PATH`` (or a bare PATH, named after its folder) -> {name: path}; ``option`` names the option in
    errors."""
    sets: dict[str, Path] = {}
    for v in values:
        name, sep, path = v.partition("=")
        name, path = (name, path) if sep else (Path(v).name, v)
        if name in sets:
            raise ConfigError(f"{option}: the name {name!r} is given twice")
        sets[name] = Path(path)
    return sets


def _classes(value: str | None) -> tuple[str, ...] | None:
    return tuple(c.strip() for c in value.split(",") if c.strip()) if value else None


_RealTrain = Annotated[Path | None, typer.Option(help="Real labelled polarimetric set (polaraug layout). "
                                                      "Without --real-train and --real-test: the built-in "
                                                      "usefulness benchmark.")]
_RealTest = Annotated[Path | None, typer.Option(help="Real test set (polaraug layout), the same for every "
                                                     "arm.")]
_Synthetic = Annotated[list[str] | None, typer.Option(help="NAME=PATH of a translated set (repeatable: one arm "
                                                           "real+NAME each).")]
_OnTheFly = Annotated[list[str] | None, typer.Option(help="NAME=PATH of a labelled RGB set (BDD100K or KITTI "
                                                          "layout) translated as training loads it, at the "
                                                          "training size, with --translator: an arm real+NAME "
                                                          "without a stored translated set (repeatable).")]
_Translator = Annotated[str, typer.Option(help="Translator checkpoint of the --on-the-fly arms ('default': the "
                                               "built-in one).")]
_Oracle = Annotated[Path | None, typer.Option(help="True polarimetric twins of the translated frames (same "
                                                   "frame names, e.g. synth --mode paired's polar/): the "
                                                   "real+oracle upper bound.")]
_Control = Annotated[list[str] | None, typer.Option(help="Synthetic set (or 'oracle') whose depolarized copy "
                                                         "(same s0, DoLP 0) is a control arm; repeatable; "
                                                         "'none' for no control (default: the first "
                                                         "--synthetic).")]
_RealVal = Annotated[Path | None, typer.Option(help="Real validation split: validate every epoch, score each "
                                                    "arm's best epoch, show the plateau.")]
_RgbTrain = Annotated[Path | None, typer.Option(help="Optional RGB reference arm: labelled RGB training set "
                                                     "(BDD100K or KITTI layout), e.g. synth's paired rgb/.")]
_RgbTest = Annotated[Path | None, typer.Option(help="RGB test set for the reference arm (the RGB twins of "
                                                    "--real-test for a like-for-like comparison).")]
_Out = Annotated[Path | None, typer.Option(help="Output folder: datasets/, runs/, results.json, report.md, "
                                                "charts (default: eval_detection; the benchmark: "
                                                "polaraug_usefulness).")]
_Encoding = Annotated[str, typer.Option(help="intensities, stokes, i0-i45-i90 or hsv.")]
_Protocol = Annotated[str, typer.Option(help="mix or pretrain-finetune.")]
_Ratio = Annotated[list[float] | None, typer.Option(help="Extra frames per real frame (repeat for a sweep, "
                                                         "e.g. --ratio 0.5 --ratio 1 --ratio 2).")]
_Budget = Annotated[str, typer.Option(help="equal-steps (every arm the same images per epoch) or "
                                           "equal-epochs.")]
_Seeds = Annotated[int | None, typer.Option(help="Repeats per arm (≥ 3 for intervals worth reading; default 3; "
                                                 "the benchmark: its own).")]
_Classes = Annotated[str | None, typer.Option(help="Comma-separated canonical classes to detect, e.g. "
                                                   "car,truck,bus (default: all).")]
_Model = Annotated[str, typer.Option(help="Ultralytics model YAML (built from scratch).")]
_Weights = Annotated[str | None, typer.Option(help="Local weights to start from (never downloaded).")]
_Epochs = Annotated[int | None, typer.Option(help="Epochs per training (default 10, a CPU demo size; GPU: "
                                                  "~100; the benchmark: its own).")]
_Patience = Annotated[int, typer.Option(help="With --real-val: stop after this many epochs without "
                                             "improvement.")]
_Imgsz = Annotated[int | None, typer.Option(help="Image size (default 160, a CPU demo size; GPU: 640; the "
                                                 "benchmark: its own).")]
_Batch = Annotated[int, typer.Option(help="Batch size.")]
_Device = Annotated[str | None, typer.Option(help="cpu, 0, 0,1, ... (default: cpu).")]
_Nbs = Annotated[int | None, typer.Option(help="Nominal batch: gradients are accumulated to this many images "
                                               "per optimizer step (default: ultralytics' 64).")]
_RealSize = Annotated[int | None, typer.Option(help="Real frames per training, each seed drawing its own "
                                                    "(default: the whole --real-train set).")]
_Quick = Annotated[bool, typer.Option("--quick", help="The benchmark at smoke-test size (about a minute).")]
_Checkpoint = Annotated[Path | None, typer.Option(help="The benchmark: the translator to evaluate (default: "
                                                       "the built-in one).")]
_KeepScores = Annotated[Path | None, typer.Option(help="The benchmark: start from the scores saved in this "
                                                       "folder and save every finished training's there "
                                                       "(e.g. docs/figures/usefulness).")]
_Figures = Annotated[Path | None, typer.Option(help="The benchmark: also copy usefulness.json and its charts "
                                                    "here.")]


def eval_detection(
    ctx: typer.Context,
    real_train: _RealTrain = None,
    real_test: _RealTest = None,
    synthetic: _Synthetic = None,
    on_the_fly: _OnTheFly = None,
    translator: _Translator = "default",
    oracle: _Oracle = None,
    control: _Control = None,
    real_val: _RealVal = None,
    rgb_train: _RgbTrain = None,
    rgb_test: _RgbTest = None,
    out: _Out = None,
    encoding: _Encoding = "intensities",
    protocol: _Protocol = "mix",
    ratio: _Ratio = None,
    budget: _Budget = "equal-steps",
    seeds: _Seeds = None,
    classes: _Classes = None,
    model: _Model = "yolov8n.yaml",
    weights: _Weights = None,
    epochs: _Epochs = None,
    patience: _Patience = 100,
    imgsz: _Imgsz = None,
    batch: _Batch = 8,
    device: _Device = None,
    nbs: _Nbs = None,
    real_size: _RealSize = None,
    quick: _Quick = False,
    checkpoint: _Checkpoint = None,
    keep_scores: _KeepScores = None,
    figures: _Figures = None,
) -> None:
    """Train YOLO on real data alone and with each generated set (same settings, steps and seeds), with an
    oracle upper bound and an unpolarized control; report gains with 95 % intervals.

    Without --real-train and --real-test: the usefulness benchmark on built-in data (scarce, narrow real
    polarimetric frames; a wide test set; translations, oracle twins and unpolarized controls; a learning
    curve), rendered and run here."""
    from polaraug.detect.arms import ExperimentInputs
    from polaraug.detect.evaluation import DetectionSettings
    from polaraug.detect.evaluation import eval_detection as run

    if real_train is None and real_test is None:
        with user_errors():
            _benchmark(ctx)
        return
    with user_errors():
        _check_data_mode(real_train, real_test, quick or checkpoint or keep_scores or figures)
        out = out or Path("eval_detection")
        sets = _named_sets(synthetic or [])
        inputs = ExperimentInputs(real_train, real_test, sets, oracle, _controls(control, sets), real_val, rgb_train,
                                  rgb_test, _named_sets(on_the_fly or [], "--on-the-fly"), translator)
        settings = DetectionSettings(encoding=encoding, protocol=protocol, ratios=tuple(ratio or (1.0,)),
                                     budget=budget, seeds=tuple(range(3 if seeds is None else seeds)), model=model,
                                     weights=weights, epochs=10 if epochs is None else epochs,
                                     imgsz=160 if imgsz is None else imgsz, batch=batch, device=device,
                                     classes=_classes(classes), patience=patience, nbs=nbs, real_size=real_size)
        results = run(inputs, out, settings=settings)
    _print_report(results, out)


def _check_data_mode(real_train: Path | None, real_test: Path | None, benchmark_options: object) -> None:
    """ConfigError unless both sets are given and none of the built-in benchmark's own options."""
    if real_train is None or real_test is None:
        raise ConfigError("give both --real-train and --real-test (or neither, for the built-in benchmark)")
    if benchmark_options:
        raise ConfigError("--quick, --checkpoint, --keep-scores and --figures are the built-in benchmark's "
                          "options; with --real-train and --real-test give the sets and arms yourself")


# what the built-in benchmark takes from the command line; it sets every other detector option itself
_BENCHMARK_OPTIONS = ("out", "quick", "checkpoint", "keep_scores", "figures", "seeds", "epochs", "imgsz", "device",
                      "encoding")


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether option ``name`` was given (on the command line or by a pipeline), not left at its default."""
    source = ctx.get_parameter_source(name)  # typer's own (vendored) click enum: compared by name
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def _check_benchmark_options(ctx: typer.Context) -> None:
    """ConfigError naming the options the built-in benchmark would otherwise silently ignore."""
    ignored = [f"--{p.name.replace('_', '-')}" for p in ctx.command.params
               if p.name not in _BENCHMARK_OPTIONS and _given(ctx, p.name)]
    if ignored:
        raise ConfigError(f"{', '.join(ignored)}: not options of the built-in benchmark (it takes "
                          f"{', '.join('--' + o.replace('_', '-') for o in _BENCHMARK_OPTIONS)}); give "
                          "--real-train and --real-test to choose sets and arms yourself")


def _print_report(results, out: Path) -> None:
    from polaraug.detect.report import report_lines, summary_lines

    typer.echo("\n".join(report_lines(results)))
    typer.echo("\n".join(summary_lines(results)))
    typer.echo(f"report {out / 'report.md'}")


def _controls(control: list[str] | None, sets: dict) -> tuple[str, ...]:
    """``--control`` as names: none given, the first synthetic set's; ``none``, no control."""
    chosen = list(control or [])
    return () if chosen == ["none"] else tuple(chosen) if chosen else tuple(list(sets)[:1])


def _benchmark(ctx: typer.Context) -> None:
    """``polaraug eval-detection`` without data: the usefulness benchmark, its summary printed."""
    from dataclasses import replace

    from polaraug.detect.usefulness import QUICK, UsefulnessConfig, run_usefulness
    from polaraug.translate.builtin import resolve_checkpoint

    _check_benchmark_options(ctx)
    opts = ctx.params
    out, quick, checkpoint = opts["out"] or Path("polaraug_usefulness"), opts["quick"], opts["checkpoint"]
    changes = {k: opts[k] for k in ("seeds", "epochs", "imgsz") if opts[k] is not None}
    if _given(ctx, "encoding"):
        changes["encoding"] = opts["encoding"]
    if checkpoint is not None and not resolve_checkpoint(checkpoint).is_file():
        raise InputError(f"{checkpoint}: no such translator checkpoint")
    cfg = replace(QUICK if quick else UsefulnessConfig(), **changes)
    typer.echo(f"usefulness benchmark{' (quick)' if quick else ''} into {out}")
    summary = run_usefulness(out, cfg=cfg, checkpoint=checkpoint, saved=opts["keep_scores"], figures=opts["figures"],
                             device=opts["device"], log=typer.echo)
    typer.echo("\n".join(summary["summary"]))
    typer.echo(f"results {out / 'usefulness.json'}")
