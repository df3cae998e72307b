"""Translator learning curves: held-out AoLP error and DoLP MAE against training steps and CPU minutes.

Does paired training keep improving with compute when its renders do not run out, and does whole-frame
context help? Arms, each trained for the same number of optimizer steps with the same seeds, on renders of the
default domain unless said, every ``--every`` steps scored on held-out scenes of the shifted domain (another
weather, sun and material mix, and a camera no arm trains on: 12-bit DoFP with noise), against their
noise-free twins:

- ``fresh-context``: fresh renders (a new frame every 4 steps into an 800-frame cache), preset cpu-context
  (whole-frame context branch, resize-convolution upsampling);
- ``fixed-context``: the same 800 first renders and never another (the control: is freshness what helps?);
- ``fresh-plain``: fresh renders, preset cpu-medium (no context, transposed convolutions; the built-in
  translator's recipe): the context ablation (it changes the upsampling too);
- ``folder-plain`` (not run by default): cpu-medium on an 800-frame rendered folder, the earlier recipe;
- ``fresh-plain-ema`` (not run by default): fresh-plain keeping a weight average of its generator (decay
  0.999). Its trained weights follow fresh-plain's path exactly, so each of its checkpoints is scored twice:
  the average (``scores``) and the trained weights (``scores_trained``), a comparison paired by seed and step;
- ``fresh-wide-ema`` (not run by default): fresh-plain-ema on renders of the ``wide`` domain (roads wet under
  any sky after rain, the sun from 5 to 60 degrees): does a wider scene randomisation remove the wet-road
  failures? It is wider than both the default and the test domain in those respects; it shares no camera,
  material or seed with the test set;
- ``fresh-clean-ema`` (not run by default): fresh-plain-ema with resize-convolution upsampling and
  anti-aliased (blur-pooled) downsampling: the checkerboard ablation, with nothing else changed.
- ``fresh-random-ema`` (not run by default): fresh-plain-ema on renders of the ``randomised`` domain (the wide
  domain with each frame's material parameters and sky polarization drawn anew): does randomising what the
  test domain changes (materials, haze) close the gap to it? Its ranges cover the test domain's values by
  design, so this is domain randomisation judged on one such domain, not a blind test;
- ``fresh-crop128-ema`` and ``fresh-crop144-ema`` (not run by default): fresh-plain-ema trained on 128 px and
  144 px crops of the 192x144 frames instead of 64 px ones: how much of the frame the generator must see;
- ``fresh-plain-ema-decay`` (not run by default): fresh-plain-ema whose learning rate decays linearly to 0
  between 12000 and 24000 steps (CycleGAN's schedule fitted to the run; the others keep it constant). Up to
  12000 steps it is fresh-plain-ema's training, step for step.

Run (one training at a time; about 20 min per arm and seed at 12000 steps on 2 cores)::

    .venv/bin/python benchmarks/translator_curve.py --data /tmp/curve_data --runs /tmp/curve_runs

Results: ``docs/figures/translator_curve.json`` (settings; per arm and seed, every kept checkpoint's steps,
minutes since the run started, and scores) and a markdown table on stdout. Finished (arm, seed) runs are
not trained again; with a larger ``--steps`` they resume from their last checkpoint and only the new
checkpoints are scored. ``--quick`` runs a few steps on tiny frames (the test suite runs it).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from polaraug.io.atomic import write_text
from polaraug.translate import load_translator
from polaraug.translate.evaluate import evaluate
from polaraug.translate.rendered import RenderSpec
from polaraug.translate.train import TrainingInputs, train_from_folders

ROOT = Path(__file__).resolve().parents[1]
@dataclass(frozen=True)
class Arm:
    """A recipe: preset, a new frame every ``refresh`` steps (0: fixed), train on the 'pre' folder instead
    (``folder``), config overrides, and the rendering domains taken in turn."""

    preset: str
    refresh: int
    folder: bool = False
    overrides: dict = field(default_factory=dict)
    domains: tuple[str, ...] = ("default",)


ARMS = {
    "fresh-context": Arm("cpu-context", 4),
    "fixed-context": Arm("cpu-context", 0),
    "fresh-plain": Arm("cpu-medium", 4),
    "folder-plain": Arm("cpu-medium", 0, folder=True),
    "fresh-plain-ema": Arm("cpu-medium", 4, overrides={"ema": 0.999}),
    "fresh-wide-ema": Arm("cpu-medium", 4, overrides={"ema": 0.999}, domains=("wide",)),
    "fresh-clean-ema": Arm("cpu-medium", 4, overrides={"ema": 0.999, "upsample": "resize", "downsample": "blur"}),
    "fresh-random-ema": Arm("cpu-medium", 4, overrides={"ema": 0.999}, domains=("randomised",)),
    # 128 px crops of the 192x144 frames: most of the frame within the generator's receptive field
    "fresh-crop128-ema": Arm("cpu-medium", 4, overrides={"ema": 0.999, "crop": 128}),
    # 144 px crops: the frame's full height and three quarters of its width
    "fresh-crop144-ema": Arm("cpu-medium", 4, overrides={"ema": 0.999, "crop": 144}),
    # the 128 px recipe with the DoLP term: every pixel's DoLP error weighted alike, as the DoLP MAE does
    "fresh-crop128-dolp-ema": Arm("cpu-medium", 4, overrides={"ema": 0.999, "crop": 128, "lambda_dolp": 10.0}),
    # the 128 px recipe on the randomised domain (per-frame materials and sky, the wide domain's weather and sun)
    "fresh-crop128-random-ema": Arm("cpu-medium", 4, overrides={"ema": 0.999, "crop": 128},
                                    domains=("randomised",)),
    "fresh-crop128-random-dolp-ema": Arm("cpu-medium", 4, overrides={"ema": 0.999, "crop": 128, "lambda_dolp": 10.0},
                                         domains=("randomised",)),
    # the built-in's recipe with the encoder's full- and half-resolution features added to the decoder's
    "fresh-crop128-random-dolp-ema-skips": Arm("cpu-medium", 4, overrides={"ema": 0.999, "crop": 128,
                                                                          "lambda_dolp": 10.0, "skips": 2},
                                               domains=("randomised",)),
    # the built-in's recipe with an L1 on the DoLP's gradients (its polarization edges are blurred)
    "fresh-crop128-random-dolp-grad-ema": Arm("cpu-medium", 4, overrides={"ema": 0.999, "crop": 128,
                                                                         "lambda_dolp": 10.0,
                                                                         "lambda_dolp_grad": 100.0},
                                              domains=("randomised",)),
    # the built-in's recipe with a discriminator that also sees s1/s0 and s2/s0 (the polarization at full scale)
    "fresh-crop128-random-dolp-ema-dview": Arm("cpu-medium", 4, overrides={"ema": 0.999, "crop": 128,
                                                                          "lambda_dolp": 10.0,
                                                                          "d_view": "polarization"},
                                               domains=("randomised",)),
    # the learning rate constant for 60 epochs of the 800-frame cache (12000 steps), then down to 0 at 24000
    "fresh-plain-ema-decay": Arm("cpu-medium", 4, overrides={"ema": 0.999, "epochs": 60, "decay_epochs": 60}),
}
DEFAULT_ARMS = ("fresh-context", "fixed-context", "fresh-plain")
SURFACES = ("sky", "car_paint", "glass", "asphalt", "asphalt_wet")


def synth(args: list[str]) -> None:
    subprocess.run([sys.executable, "-m", "polaraug", "synth", *args, "--workers", "2"], check=True,
                   capture_output=True)


def make_data(root: Path, size: str, n_test: int, folder: bool) -> None:
    """The held-out test set and its noise-free truth (and the 800-frame folder for folder-plain)."""
    specs = {
        "test": ["-n", str(n_test), "--mode", "paired", "--domain", "shifted", "--seed", "2", "--val", "0", "--masks"],
        "truth": ["-n", str(n_test), "--mode", "paired", "--domain", "shifted", "--seed", "2", "--val", "0",
                  "--masks", "--no-noise", "--no-dofp"],
    }
    if folder:
        specs["pre"] = ["-n", "800", "--mode", "paired", "--seed", "0"]
    for name, spec in specs.items():
        if not (root / name).is_dir():
            print(f"rendering {name}", flush=True)
            synth([str(root / name), "--size", size, *spec])


def train_arm(arm: str, seed: int, data: Path, run: Path, *, steps: int, every: int, size: tuple[int, int],
              cache: int, after: dict | None = None) -> list[dict]:
    """Train one arm, or resume it to ``steps`` when ``after`` (its last scored point) is given.

    Returns:
        its kept checkpoints past ``after`` as [{checkpoint, steps, minutes, threads}]: minutes of training
        since the run started, as :func:`new_checkpoints` counts them; torch's CPU threads.
    """
    preset, refresh, folder, overrides, domains = dataclasses.astuple(ARMS[arm])
    started = time.time()
    if folder:
        inputs = TrainingInputs(paired=data / "pre")
    else:
        inputs = TrainingInputs(render=RenderSpec(width=size[0], height=size[1], cache=cache, refresh=refresh,
                                                  domains=domains, seed=seed))
    train_from_folders(inputs, run, preset=preset, overrides=overrides, seed=seed, max_steps=steps,
                       checkpoint_every=every,
                       sample_every=10**9, keep_checkpoints=True)
    return [{"checkpoint": str(c), "steps": k, "minutes": m, "threads": torch.get_num_threads()}
            for (k, c), m in zip(*new_checkpoints(run, after, started), strict=True)]


def new_checkpoints(run: Path, after: dict | None, started: float) -> tuple[list[tuple[int, Path]], list]:
    """A run's kept checkpoints past ``after`` and the minutes of training at each.

    Args:
        run: the run folder (``checkpoints/step_*.pt``).
        after: the run's last scored point ({steps, minutes}), None for a new run.
        started: ``time.time()`` when this process started training the run.

    Returns:
        ([(steps, path)] sorted by steps, [minutes or None per checkpoint]). Minutes continue ``after``'s
        clock; all are None when a checkpoint is older than ``started`` (a process stopped before scoring it
        wrote it: its time, and how long the run stood still, are unknown) or ``after`` has no clock.
    """
    kept = [(int(c.stem.split("_")[1]), c) for c in sorted((run / "checkpoints").glob("step_*.pt"))]
    kept = [(k, c) for k, c in kept if after is None or k > after["steps"]]
    if (after is not None and after["minutes"] is None) or any(c.stat().st_mtime < started for _, c in kept):
        return kept, [None] * len(kept)
    t0 = started - 60 * (after["minutes"] if after else 0)
    return kept, [(c.stat().st_mtime - t0) / 60 for _, c in kept]


def score(checkpoint: str, data: Path, average: bool = True) -> dict:
    """Noise-free scores of a checkpoint (PSNR per channel and mean, DoLP MAE, AoLP error, per surface AoLP
    error, DoLP MAE and signed DoLP bias); ``average``: its generator's weight average when it kept one, else
    its trained weights."""
    model, _ = load_translator(checkpoint, average=average)
    ev = evaluate(model, data / "test", split="train", clean=data / "truth" / "polar").to_dict()
    nf = ev["noise_free"]
    return {"aolp_error_deg": nf["aolp_error_deg"], "dolp_mae": nf["dolp_mae"],
            "psnr_mean": statistics.mean(nf["psnr"].values()), "psnr": nf["psnr"],
            "surfaces_aolp_deg": {k: v["aolp_error_deg"] for k, v in ev.get("surfaces", {}).items()},
            "surfaces_dolp_mae": {k: v["dolp_mae"] for k, v in ev.get("surfaces", {}).items()},
            "surfaces_dolp_bias": {k: v["dolp_bias"] for k, v in ev.get("surfaces", {}).items()}}


def summary(results: dict) -> list[str]:
    """Markdown rows: per arm and checkpoint, mean [min–max] over seeds."""

    def rng(values: list[float], fmt: str) -> str:
        if len(values) == 1:
            return format(values[0], fmt)
        return f"{format(statistics.mean(values), fmt)} [{format(min(values), fmt)}–{format(max(values), fmt)}]"

    rows = ["| arm | steps | min | seeds | AoLP err (°) | DoLP MAE | PSNR (dB) | "
            + " | ".join(f"{s} (°)" for s in SURFACES) + " |", "|---" * (7 + len(SURFACES)) + "|"]
    for arm, key in ((a, k) for a in ARMS for k in ("scores", "scores_trained")):
        runs = [r for r in results["runs"] if r["arm"] == arm and all(key in p for p in r["points"])]
        label = arm if key == "scores" else f"{arm} (trained weights)"
        for k in sorted({p["steps"] for r in runs for p in r["points"]}):
            pts = [p for r in runs for p in r["points"] if p["steps"] == k]
            sc = [p[key] for p in pts]
            surf = " | ".join(rng([s["surfaces_aolp_deg"][n] for s in sc if n in s["surfaces_aolp_deg"]], ".1f")
                              if any(n in s["surfaces_aolp_deg"] for s in sc) else "–" for n in SURFACES)
            minutes = [p["minutes"] for p in pts]
            clock = f"{statistics.mean(minutes):.1f}" if None not in minutes else "–"
            rows.append(f"| {label} | {k} | {clock} | {len(pts)} | "
                        f"{rng([s['aolp_error_deg'] for s in sc], '.1f')} | "
                        f"{rng([s['dolp_mae'] for s in sc], '.3f')} | "
                        f"{rng([s['psnr_mean'] for s in sc], '.1f')} | {surf} |")
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="held-out sets (rendered here when absent)")
    p.add_argument("--runs", type=Path, required=True, help="training runs (kept; finished arms are skipped)")
    p.add_argument("--steps", type=int, help="training steps per arm (default 12000; --quick: 4)")
    p.add_argument("--every", type=int, default=3000, help="steps between scored checkpoints")
    p.add_argument("--seeds", default="0", help="comma-separated seeds")
    p.add_argument("--arms", default=",".join(DEFAULT_ARMS), help=f"comma-separated, of {', '.join(ARMS)}")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "figures" / "translator_curve.json")
    p.add_argument("--quick", action="store_true", help="tiny frames and a few steps (a smoke test)")
    p.add_argument("--average-only", action="store_true",
                   help="score only the weight average of arms that keep one (half the scoring time)")
    args = p.parse_args()
    arms = args.arms.split(",")
    unknown = sorted(set(arms) - set(ARMS))
    if unknown:
        p.error(f"unknown arm(s) {unknown}; choose from {', '.join(ARMS)}")
    size, cache, n_test = ((64, 48), 4, 2) if args.quick else ((192, 144), 800, 48)
    steps, every = (args.steps or 4, 2) if args.quick else (args.steps or 12000, args.every)
    make_data(args.data, f"{size[0]}x{size[1]}", n_test, folder="folder-plain" in arms)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {"runs": []}
    known_arms = results.get("settings", {}).get("arms", {})
    # each run's steps are its points' (runs of one file may be trained to different lengths)
    results["settings"] = {"every": every, "frame_size": list(size), "cache": cache,
                           "arms": {**known_arms, **{a: dataclasses.asdict(ARMS[a]) for a in arms}},
                           "train": "renders of the arm's domains (default unless said; seeded by the run's seed)",
                           "test": f"{n_test} shifted-domain paired frames (seed 2) scored against their "
                                   "--no-noise --no-dofp twins"}
    for seed in (int(s) for s in args.seeds.split(",")):
        for arm in arms:
            record = next((r for r in results["runs"] if r["arm"] == arm and r["seed"] == seed), None)
            after = max(record["points"], key=lambda p: p["steps"]) if record else None
            if after is not None and after["steps"] >= steps:
                continue
            print(f"{arm} seed {seed}" + (f": from step {after['steps']} to {steps}" if after else ""), flush=True)
            points = train_arm(arm, seed, args.data, args.runs / f"{arm}_s{seed}", steps=steps, every=every,
                               size=size, cache=cache, after=after)
            for pt in points:
                pt["scores"] = score(pt["checkpoint"], args.data)
                if ARMS[arm].overrides.get("ema") and not args.average_only:
                    pt["scores_trained"] = score(pt["checkpoint"], args.data, average=False)
            if record is None:
                results["runs"].append({"arm": arm, "seed": seed, "points": points})
            else:  # a longer run of a finished arm: its new checkpoints join its curve
                record["points"].extend(points)
            write_text(args.out, json.dumps(results, indent=1) + "\n")
            print("\n".join(summary(results)), flush=True)
    print("\n".join(summary(results)))


if __name__ == "__main__":
    main()
