"""How well does the out-of-distribution score separate real frames from translated ones?

On the detection experiment's shifted-domain sets (``benchmarks/detection_experiment.py --data DIR`` renders
and translates them): an OOD classifier is trained (``polaraug ood train``) on the real training frames
against the first 80 % of both translated sets (paired Stokes-head translator and constrained CycleGAN: a
history of two generators), then scored on frames it never saw: the 200 real test frames against the last
20 % of each translated set. Two comparisons keep it honest:

- the **oracle** (true renders of the same shifted camera, the translated frames' twins, never trained on)
  must score like real frames (ROC AUC near 0.5): the score measures unlikeness to the real domain, not
  "not in the training data";
- the CycleGAN translator's own polarimetric discriminator (``polaraug ood export``), trained against an
  image pool of its past outputs, is scored on the same frames.

Run (≈ 5 min on 2 cores)::

    .venv/bin/python benchmarks/ood_separation.py --data /tmp/det --ablation-runs /tmp/ablation_runs

Writes ``docs/figures/ood_separation.json`` (settings, AUCs, mean scores per set) and pictures of the three
paired translations the classifier finds least real (``docs/figures/ood_paired_{1,2,3}.png``: s0 | DoLP |
AoLP-DoLP).

``--quick``: detection_experiment.py's quick sets and untrained tiny translators (unless ``--data`` and
``--ablation-runs`` are given), one seed of 2 classifier steps, everything in a temporary folder: a smoke test
the suite runs (its AUCs mean nothing).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from polaraug.ood import OODSettings, export_from_translator, save_ood, separation, train_ood
from polaraug.ood.train import split
from polaraug.validate import run_validation
from polaraug.validate.runner import open_set

ROOT = Path(__file__).resolve().parents[1]


def opened(folder: Path):
    o = open_set(folder, None)
    return folder, o.camera, o.frames


def quick_inputs(work: Path) -> tuple[Path, Path]:
    """detection_experiment.py's quick sets, translated by untrained tiny translators.

    Args:
        work: a scratch folder.

    Returns:
        (the data folder, the folder that plays --ablation-runs).
    """
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import detection_experiment as det

    runs = work / "runs"
    det.tiny_translators(runs)
    ckpt = runs / "{}_s0" / "train" / "checkpoints" / "last.pt"
    det.make_data(work / "data", Path(str(ckpt).format("paired-stokes")), Path(str(ckpt).format("cyclegan-project")),
                  det.QUICK_SETS, "96x72")  # the classifier trains on 64 px crops
    return work / "data", runs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=None, help="detection_experiment.py's --data (required without "
                                                           "--quick)")
    p.add_argument("--ablation-runs", type=Path, default=None, help="translator_ablation.py's --runs (required "
                                                                    "without --quick)")
    p.add_argument("--out", type=Path, default=Path("/tmp/ood_separation"))
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--steps", type=int, default=OODSettings.steps, help="classifier training steps")
    p.add_argument("--figures", type=Path, default=ROOT / "docs" / "figures")
    p.add_argument("--quick", action="store_true", help="tiny sets and translators, 1 seed of 2 steps")
    args = p.parse_args()
    if not args.quick:
        if args.data is None or args.ablation_runs is None:
            p.error("--data and --ablation-runs are required (or --quick)")
        run(args)
        return
    with tempfile.TemporaryDirectory() as d:
        if args.data is None or args.ablation_runs is None:
            args.data, args.ablation_runs = quick_inputs(Path(d))
        args.seeds, args.steps, args.out, args.figures = 1, 2, Path(d) / "out", Path(d) / "figures"
        run(args)


def run(args: argparse.Namespace) -> None:
    """Train the classifiers, score them and the exported discriminator, picture the least real translations.

    Args:
        args: the parsed command line.
    """
    d = args.data
    real_train, real_test = opened(d / "real_train"), opened(d / "real_test")
    generated = {"paired": opened(d / "syn_paired"), "cyclegan": opened(d / "syn_cyclegan")}
    oracle = opened(d / "pool" / "polar")
    settings = OODSettings(steps=args.steps)
    held = {name: (split(g[2], settings.holdout)[1], g[1]) for name, g in generated.items()}
    held["oracle"] = (split(oracle[2], settings.holdout)[1], oracle[1])  # the twins of the held-out translations
    test = (real_test[2], real_test[1])

    def scores(model) -> dict:
        return {name: separation(model, test, [frames]) for name, frames in held.items()}

    results = {"settings": asdict(settings), "seeds": list(range(args.seeds)),
               "sets": {"real_train": len(real_train[2]), "real_test": len(real_test[2]),
                        **{k: len(v[2]) for k, v in generated.items()}},
               "trained": [], "exported": {}}
    args.out.mkdir(parents=True, exist_ok=True)
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        model, report = train_ood(real_train, list(generated.values()), OODSettings(steps=args.steps, seed=seed),
                                  progress=False)
        minutes = (time.perf_counter() - t0) / 60
        save_ood(model, args.out / f"ood_s{seed}.pt")
        results["trained"].append({"seed": seed, "minutes": minutes, "internal_heldout": report["heldout"],
                                   "vs_real_test": scores(model)})
        print(seed, {k: round(v["auc"], 3) for k, v in results["trained"][-1]["vs_real_test"].items()}, flush=True)
    ckpt = args.ablation_runs / "cyclegan-project_s0" / "train" / "checkpoints" / "last.pt"
    results["exported"] = {"checkpoint": str(ckpt), "vs_real_test": scores(export_from_translator(ckpt))}
    print("exported", {k: round(v["auc"], 3) for k, v in results["exported"]["vs_real_test"].items()}, flush=True)
    # the paired translations the first classifier finds least real, pictured
    run = run_validation(d / "syn_paired", ood_model=args.out / "ood_s0.pt", plots=args.out / "plots_paired",
                         progress=False)
    results["most_ood_paired"] = [{"name": f.name, "ood": f.ood} for f in run.report.most_ood(5)]
    args.figures.mkdir(parents=True, exist_ok=True)
    for k in (1, 2, 3):
        src = args.out / "plots_paired" / f"ood_{k}.png"
        if src.is_file():
            shutil.copyfile(src, args.figures / f"ood_paired_{k}.png")
    (args.figures / "ood_separation.json").write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps({"trained": [r["vs_real_test"] for r in results["trained"]],
                      "exported": results["exported"]["vs_real_test"]}, indent=1))


if __name__ == "__main__":
    main()
