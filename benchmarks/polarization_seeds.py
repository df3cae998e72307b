"""Does true polarization help the detector? The usefulness benchmark's oracle arm against its unpolarized
control, over many seeds.

The usefulness benchmark (``polaraug eval-detection`` without real sets) trains, at its smallest real set,
the real frames plus 200 true polarimetric twins (``real+oracle``) and the same twins depolarized (same s0,
DoLP 0: ``real+oracle-unpolarized``) over 5 seeds. Their difference is what polarization itself adds to a
detector, and 5 or 10 trainings do not resolve it: single trainings move by up to 0.05 mAP50 when their
inputs change by one step in 0.01 % of pixels. This trains only those two arms, on the benchmark's sets and
settings, over ``--seeds`` seeds (each seed its own draw of 25 real frames, as the benchmark draws them), and
reports their difference with the Student-t interval over seeds. Every finished training's score is kept in
``--scores`` (default OUT/scores; a folder under docs/figures to commit them as they come); a rerun resumes
from them and ``--seeds`` can grow between runs.

    .venv/bin/python benchmarks/polarization_seeds.py --out OUT --seeds 40 [--data polaraug_usefulness/data]
        [--scores docs/figures/polarization_seeds] [--json docs/figures/polarization_seeds.json]
        [--figure docs/figures/polarization_seeds.png] [--device 0]

``--data``: the benchmark's data folder (``real/``, ``test/``, ``pool/polar``) of an earlier ``polaraug
eval-detection --out polaraug_usefulness`` (default: render it into OUT/data, as the benchmark does).
``--quick``: the benchmark's smoke-test sizes and settings. About 2-5 min per training on 2 CPU cores; two
trainings per seed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import polaraug  # noqa: F401  (before ultralytics: it reads OMP_NUM_THREADS, which ultralytics' import sets to 1)
from polaraug.detect.arms import ORACLE, ExperimentInputs, plan_arms
from polaraug.detect.evaluation import _cached, _run_arm, offline_ultralytics
from polaraug.detect.settings import DetectionSettings
from polaraug.detect.stats import paired_difference
from polaraug.detect.usefulness import QUICK, Experiment, UsefulnessConfig, prepare_data, settings_of
from polaraug.engine.device import cpu_threads
from polaraug.io.atomic import write_text


def summary(scores: dict[str, list[float]], polar: str, control: str, seeds: list[int],
            settings: DetectionSettings) -> dict:
    """The two arms' mAP50 per seed and polarized minus unpolarized over the seeds.

    Args:
        scores: {arm name: mAP50 per seed, in ``seeds`` order} for ``polar`` and ``control``.
        polar, control: the oracle arm's name and its unpolarized control's.
        seeds: the seeds trained so far.
        settings: the detector settings every training used.

    Returns:
        {"settings", "seeds", "map50": {arm: [...]}, "mean": {arm: m}, "difference": paired_difference(...)}.
    """
    return {"settings": settings.to_dict(), "seeds": seeds, "map50": scores,
            "mean": {k: statistics.mean(v) for k, v in scores.items()},
            "difference": {"of": f"{polar} - {control}", **paired_difference(scores[control], scores[polar])}}


def running(diffs: list[float]) -> list[dict]:
    """The mean difference and its Student-t interval over the first k seeds, for k = 1..n.

    Args:
        diffs: polarized minus unpolarized mAP50 per seed, in seed order.

    Returns:
        [paired_difference over diffs[:k] against zeros] for each k ({"mean", "low", "high", ...}).
    """
    return [paired_difference([0.0] * k, diffs[:k]) for k in range(1, len(diffs) + 1)]


def draw(result: dict, path: Path) -> Path:
    """Each seed's difference as a dot, and the running mean with its 95 % interval against the seeds so far.

    Args:
        result: :func:`summary`'s output.
        path: the PNG to write.

    Returns:
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    diffs = result["difference"]["diffs"]
    k = list(range(1, len(diffs) + 1))
    run = running(diffs)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.axhline(0, color="grey", lw=0.8)
    ax.plot(k, diffs, "o", ms=3.5, color="tab:grey", label="one seed's difference")
    ax.plot(k, [r["mean"] for r in run], color="tab:blue", label="mean over the seeds so far")
    lows = [r["low"] if r["low"] is not None else float("nan") for r in run]
    highs = [r["high"] if r["high"] is not None else float("nan") for r in run]
    ax.fill_between(k, lows, highs, color="tab:blue", alpha=0.2, label="its 95 % interval (Student-t)")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("seeds trained")
    ax.set_ylabel("mAP50, polarized − unpolarized")
    ax.set_title(result["difference"]["of"], fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=None)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seeds", type=int, default=40)
    p.add_argument("--scores", type=Path, default=None)
    p.add_argument("--device", default=None)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--figure", type=Path, default=None, help="the differences against the seeds (PNG)")
    args = p.parse_args()

    offline_ultralytics(args.out / ".ultralytics")
    cfg = QUICK if args.quick else UsefulnessConfig()
    settings = settings_of(cfg, Experiment("mix", cfg.sizes[0], args.seeds, True), args.device)
    if args.data is None:  # the benchmark's own sets (the pool's translation too, which this does not use)
        args.data = prepare_data(cfg, args.out, log=lambda m: print(m, file=sys.stderr), progress=False).real.parent
    inputs = ExperimentInputs(args.data / "real", args.data / "test", oracle=args.data / "pool" / "polar",
                              controls=(ORACLE,))
    inputs.check()
    plan = plan_arms(inputs, args.out / "datasets", settings)
    polar = next(a for a in plan.arms if a.kind == ORACLE)
    control = next(a for a in plan.arms if a.control_of == polar.name)
    arms = [polar, control]  # not real alone: the question is between these two
    cache = args.scores or args.out / "scores"
    scores: dict[str, list[float]] = {a.name: [] for a in arms}
    seconds: list[float | None] = []  # per training, in training order (None: scored before times were kept)
    for seed in settings.seeds:
        for arm in arms:
            path = cache / f"{arm.slug}_s{seed}.json"
            score = _cached(path, lambda arm=arm, seed=seed: _run_arm(arm, plan, seed, settings, args.out / "runs",
                                                                      cache / f"{arm.slug}_s{seed}.npz"))
            scores[arm.name].append(score.map50)
            seconds.append(score.seconds)
        result = summary(scores, polar.name, control.name, list(settings.seeds[: seed + 1]), settings)
        result["minutes_per_training"] = [round(t / 60, 2) if t is not None else None for t in seconds]
        result["cpu_threads"] = cpu_threads()
        d = result["difference"]
        print(f"seed {seed}: {d['of']} = {d['mean']:+.4f}"
              + (f" [{d['low']:+.4f}, {d['high']:+.4f}]" if d.get("low") is not None else ""), file=sys.stderr)
        if args.json:  # after every seed: a stopped run still leaves its figures
            write_text(args.json, json.dumps(result, indent=1) + "\n")
        if args.figure:
            draw(result, args.figure)


if __name__ == "__main__":
    main()
