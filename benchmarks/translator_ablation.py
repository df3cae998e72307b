"""Translator ablation on the shifted-domain benchmark: which objective learns polarization at a CPU budget.

The user's situation, built from polaraug's renderer: RGB frames of the default domain (their RGB
dataset), unlabelled polarimetric frames of the *shifted* domain (their camera: another calibration, a
12-bit DoFP mosaic, another weather/sun/material mix) and paired default-domain renders for pretraining.
Held-out shifted frames are scored against their noisy twins and against noise-free twins.

Arms, each with the same wall-clock budget of training (``--minutes``) and the same seeds:

- ``cyclegan-project``: today's constrained CycleGAN (intensities head, projection), unpaired;
- ``cyclegan-stokes``: the same objective with the Stokes head;
- ``paired-intensities`` / ``paired-stokes``: paired training on default renders only (no adaptation);
- ``pretrain-adapt``: paired-stokes for ``--pretrain-share`` of the budget, then unpaired adaptation
  from it (``--init``);
- ``pretrain-adapt-anchor``: the same with the paired anchor loss during adaptation;
- GAN variants of the adversarial part (``--arms`` to run them): ``paired-stokes-wgangp`` and
  ``cyclegan-stokes-wgangp`` (Wasserstein critic with gradient penalty, 5 critic steps per generator step,
  no image pool), ``paired-stokes-msfm`` (pix2pixHD's two-scale discriminator with feature matching,
  λ_fm 40: pix2pixHD's λ_feat 10 in its weighting).

Run (≈ arms × seeds × minutes; one training at a time)::

    .venv/bin/python benchmarks/translator_ablation.py --data /tmp/ablation_data --runs /tmp/ablation_runs

Results: ``docs/figures/translator_ablation.json`` (settings, seeds, every run's scores and its step count)
and a markdown table on stdout. Finished (arm, seed) runs are kept in ``--runs`` and not trained again.

``--quick``: a few 96x72 frames per folder, the paired-stokes and cyclegan-project arms for 2 seconds each, one
seed, everything (``--data``, ``--runs``, ``--out``) in a temporary folder unless given: a smoke test the suite
runs (its scores mean nothing).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from polaraug.data.polarset import read_polarset
from polaraug.io.atomic import write_text
from polaraug.translate import load_translator
from polaraug.translate.evaluate import evaluate, frame_scores
from polaraug.translate.train import TrainingInputs, train_from_folders

ROOT = Path(__file__).resolve().parents[1]
ARMS = ("cyclegan-project", "cyclegan-stokes", "paired-intensities", "paired-stokes", "pretrain-adapt",
        "pretrain-adapt-anchor", "paired-stokes-wgangp", "paired-stokes-msfm", "cyclegan-stokes-wgangp")
DEFAULT_ARMS = ARMS[:6]
# adversarial variants: the arm name's suffix -> config overrides
VARIANTS = {"wgangp": {"gan_loss": "wgan-gp", "n_critic": 5}, "msfm": {"d_scales": 2, "lambda_fm": 40.0}}
CONFIG = {"preset": "cpu-small", "n_blocks": 6, "batch": 4, "crop": 64}


def synth(args: list[str]) -> None:
    subprocess.run([sys.executable, "-m", "polaraug", "synth", *args, "--workers", "2"], check=True,
                   capture_output=True)


FRAMES = {"pre": 800, "rgb": 800, "real": 400, "test": 48, "truth": 48}
QUICK_FRAMES = {"pre": 6, "rgb": 6, "real": 6, "test": 2, "truth": 2}


def make_data(root: Path, size: str, frames: dict[str, int] = FRAMES) -> None:
    """The benchmark's five folders (skipped when present).

    Args:
        root: where they are rendered.
        size: WIDTHxHEIGHT.
        frames: frames per folder.
    """
    specs = {
        "pre": ["--mode", "paired", "--seed", "0"],
        "rgb": ["--mode", "rgb", "--seed", "5"],
        "real": ["--mode", "polar", "--domain", "shifted", "--seed", "1"],
        "test": ["--mode", "paired", "--domain", "shifted", "--seed", "2", "--val", "0", "--masks"],
        "truth": ["--mode", "paired", "--domain", "shifted", "--seed", "2", "--val", "0", "--masks",
                  "--no-noise", "--no-dofp"],
    }
    for name, spec in specs.items():
        if not (root / name).is_dir():
            print(f"rendering {name}", flush=True)
            synth([str(root / name), "--size", size, "-n", str(frames[name]), *spec])


def noise_floor(root: Path) -> dict:
    """Scores of the noisy truth itself against the noise-free twins: what a perfect translator gets."""
    noisy, clean = read_polarset(root / "test" / "polar"), read_polarset(root / "truth" / "polar")
    a = clean.camera.matrix()
    clean_frames = {f.stem: f for f in clean.frames("train")}
    rows = [frame_scores(noisy.load(f), clean.load(clean_frames[f.stem]), a) for f in noisy.frames("train")]
    return {"psnr": np.mean([r["psnr"] for r in rows], axis=0).tolist(),
            "dolp_mae": float(np.mean([r["dolp_abs"] for r in rows])),
            "aolp_error_deg": float(np.mean([r["aolp_weighted"] for r in rows]))}


def train_arm(arm: str, seed: int, root: Path, run: Path, minutes: float, pretrain_share: float,
              anchor_weight: float) -> dict:
    """Train one arm; returns {checkpoint, steps, minutes} (the steps of every phase)."""
    unpaired = TrainingInputs(rgb=root / "rgb", polar=root / "real")
    common = dict(config=None, preset="cpu-small", seed=seed, checkpoint_every=10**9, sample_every=10**9,
                  progress=False)
    cfg = {k: v for k, v in CONFIG.items() if k != "preset"}
    cfg.update(VARIANTS.get(arm.rsplit("-", 1)[-1], {}))
    t0 = time.perf_counter()
    if arm.startswith("cyclegan"):
        head, mode = ("intensities", "project") if arm == "cyclegan-project" else ("stokes", "none")
        res = train_from_folders(unpaired, run / "train", overrides={**cfg, "head": head, "mode": mode},
                                 max_minutes=minutes, **common)
        steps = [res.steps]
    elif arm.startswith("paired"):
        head = arm.split("-")[1]
        res = train_from_folders(TrainingInputs(paired=root / "pre"), run / "train",
                                 overrides={**cfg, "head": head, "mode": "project"}, max_minutes=minutes, **common)
        steps = [res.steps]
    else:
        pre = train_from_folders(TrainingInputs(paired=root / "pre"), run / "pretrain",
                                 overrides={**cfg, "head": "stokes", "mode": "none"},
                                 max_minutes=minutes * pretrain_share, **common)
        anchor = anchor_weight if arm.endswith("anchor") else 0.0
        adapt = TrainingInputs(rgb=root / "rgb", polar=root / "real", init=pre.checkpoint,
                               anchor=root / "pre" if anchor else None)
        res = train_from_folders(adapt, run / "train", overrides={**cfg, "head": "stokes", "mode": "none",
                                                                   "lambda_anchor": anchor},
                                 max_minutes=minutes * (1 - pretrain_share), **common)
        steps = [pre.steps, res.steps]
    return {"checkpoint": str(res.checkpoint), "steps": steps, "minutes": (time.perf_counter() - t0) / 60,
            "variant": VARIANTS.get(arm.rsplit("-", 1)[-1], {})}


def score(checkpoint: str, root: Path) -> dict:
    model, _ = load_translator(checkpoint)
    ev = evaluate(model, root / "test", split="train", clean=root / "truth" / "polar")
    return ev.to_dict()


def _steps(runs: list[dict]) -> str:
    """Mean optimizer steps of each phase (pretraining + adaptation), over seeds."""
    phases = range(len(runs[0]["steps"]))
    return "+".join(str(int(statistics.mean(r["steps"][i] for r in runs))) for i in phases)


def summary(results: dict) -> list[str]:
    """Markdown rows: mean [min–max] over seeds of each arm's noise-free scores."""

    def rng(values: list[float], fmt: str) -> str:
        return f"{format(statistics.mean(values), fmt)} [{format(min(values), fmt)}–{format(max(values), fmt)}]"

    head = ("| arm | PSNR I0/I45/I90/I135 (dB) | SSIM | DoLP MAE | AoLP err (°, DoLP-wt) | inadmissible | "
            "residual | min | steps |", "|---|---|---|---|---|---|---|---|---|")
    rows = list(head)
    for arm in ARMS:
        runs = [r for r in results["runs"] if r["arm"] == arm]
        if not runs:
            continue
        nf = [r["scores"]["noise_free"] for r in runs]
        psnr = "/".join(f"{statistics.mean(s['psnr'][c] for s in nf):.1f}" for c in ("I0", "I45", "I90", "I135"))
        ssim = statistics.mean(statistics.mean(s["ssim"].values()) for s in nf)
        rows.append(f"| {arm} | {psnr} | {ssim:.3f} | {rng([s['dolp_mae'] for s in nf], '.3f')} | "
                    f"{rng([s['aolp_error_deg'] for s in nf], '.1f')} | "
                    f"{max(s['inadmissible_fraction'] for s in nf):.2%} | {max(s['residual_rms'] for s in nf):.1e} | "
                    f"{statistics.mean(r['minutes'] for r in runs):.1f} | {_steps(runs)} |")
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=None, help="rendered folders (required without --quick)")
    p.add_argument("--runs", type=Path, default=None, help="training runs (required without --quick)")
    p.add_argument("--size", default="192x144")
    p.add_argument("--minutes", type=float, default=6.0, help="training budget per arm (wall clock)")
    p.add_argument("--pretrain-share", type=float, default=0.7)
    p.add_argument("--anchor-weight", type=float, default=0.1)
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--arms", default=",".join(DEFAULT_ARMS), help=f"comma-separated, of {', '.join(ARMS)}")
    p.add_argument("--out", type=Path, default=None, help="results (default: docs/figures/translator_ablation.json; "
                                                          "with --quick a temporary file)")
    p.add_argument("--rescore", action="store_true", help="score the finished runs' checkpoints again (after "
                                                           "a change of the evaluation), train nothing")
    p.add_argument("--quick", action="store_true", help="tiny sets, 2 arms for 2 s each, 1 seed, temporary folders")
    args = p.parse_args()
    unknown = sorted(set(args.arms.split(",")) - set(ARMS))
    if unknown:
        p.error(f"unknown arm(s) {unknown}; choose from {', '.join(ARMS)}")
    if not args.quick:
        if args.data is None or args.runs is None:
            p.error("--data and --runs are required (or --quick)")
        run(args, FRAMES, args.out or ROOT / "docs" / "figures" / "translator_ablation.json")
        return
    args.size, args.minutes, args.seeds, args.arms = "96x72", 2 / 60, 1, "paired-stokes,cyclegan-project"
    with tempfile.TemporaryDirectory() as d:
        args.data, args.runs = args.data or Path(d) / "data", args.runs or Path(d) / "runs"
        run(args, QUICK_FRAMES, args.out or Path(d) / "translator_ablation.json")


def run(args: argparse.Namespace, frames: dict[str, int], out: Path) -> None:
    """Render what is missing, train every (arm, seed) not yet in ``out`` (or rescore them), print the table.

    Args:
        args: the parsed command line.
        frames: frames per rendered folder.
        out: the results file.
    """
    args.out = out
    make_data(args.data, args.size, frames)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {"runs": []}
    results["settings"] = {"config": CONFIG, "minutes_per_arm": args.minutes, "pretrain_share": args.pretrain_share,
                           "anchor_weight": args.anchor_weight, "frame_size": args.size, "seeds": args.seeds,
                           "data": "pre: 800 default paired (seed 0, 639 train); rgb: 800 default RGB (seed 5); "
                                   "real: 400 shifted polar (seed 1); test/truth: 48 shifted paired (seed 2), "
                                   "truth = --no-noise --no-dofp twins, scored on all 48"}
    results["noise_floor"] = noise_floor(args.data)
    if args.rescore:
        for r in results["runs"]:
            print(f"rescoring {r['arm']} seed {r['seed']}", flush=True)
            r["scores"] = score(r["checkpoint"], args.data)
            write_text(args.out, json.dumps(results, indent=1) + "\n")
        print("\n".join(summary(results)))
        return
    for seed in range(args.seeds):
        for arm in args.arms.split(","):
            if any(r["arm"] == arm and r["seed"] == seed for r in results["runs"]):
                continue
            print(f"{arm} seed {seed}", flush=True)
            run = args.runs / f"{arm}_s{seed}"
            info = train_arm(arm, seed, args.data, run, args.minutes, args.pretrain_share, args.anchor_weight)
            results["runs"].append({"arm": arm, "seed": seed, **info, "scores": score(info["checkpoint"], args.data)})
            write_text(args.out, json.dumps(results, indent=1) + "\n")
            print("\n".join(summary(results)), flush=True)
    print("\n".join(summary(results)))


if __name__ == "__main__":
    main()
