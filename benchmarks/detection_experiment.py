"""Does generated polarimetric data help a detector? eval-detection on the shifted-domain benchmark.

The user's situation, built from polaraug's renderer (the translator ablation's benchmark): a small labelled
set from their polarization camera (the *shifted* domain: another calibration, a 12-bit DoFP mosaic, another
weather/sun/material mix), a real validation split and a real test set of other scenes, and a larger RGB set
to translate. The RGB set is rendered in pairs, so its true polarimetric twins are the oracle: what a perfect
translator would add.

Arms (``polaraug eval-detection``): ``real`` alone at equal optimizer steps; ``real+paired`` (translations
by the paired Stokes-head translator, the ablation's best, for the shifted camera); ``real+cyclegan``
(translations by the constrained CycleGAN, ``project`` mode); ``real+oracle``; ``real+paired-unpolarized``
(the paired translations with their polarization removed: the control).

Run (the translator checkpoints come from ``benchmarks/translator_ablation.py``; about 90 min on 2 cores)::

    .venv/bin/python benchmarks/detection_experiment.py --data /tmp/det --ablation-runs /tmp/ablation_runs

``--ood-drop 0.2`` adds ``real+paired-ood20``: the paired translations without the fifth of their frames an
out-of-distribution model (``polaraug ood train``, real training frames against both translated sets)
scores least real; the other arms' trainings are reused.

Settings and seeds are written next to the results (``OUT/settings.json``), the results to
``docs/figures/detection_experiment.json`` and the report with its charts to ``OUT/``. Resumable: finished
(arm, seed) trainings are kept.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = {  # folder: synth arguments (all 192x144, shifted domain, no val split)
    "real_train": ["-n", "100", "--mode", "polar", "--seed", "21"],
    "real_val": ["-n", "60", "--mode", "polar", "--seed", "22"],
    "real_test": ["-n", "200", "--mode", "polar", "--seed", "23"],
    "pool": ["-n", "400", "--mode", "paired", "--seed", "24"],
}


def polaraug(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "polaraug", *args], check=True)


def make_data(root: Path, paired_ckpt: Path, cyclegan_ckpt: Path) -> None:
    """The sets and both translations of the pool's RGB frames (each skipped when present)."""
    for name, spec in SETS.items():
        if not (root / name).is_dir():
            polaraug("synth", str(root / name), *spec, "--size", "192x144", "--domain", "shifted", "--val", "0")
    if not (root / "syn_paired" / "manifest.json").is_file():
        polaraug("translate", str(root / "pool" / "rgb"), str(root / "syn_paired"), "--checkpoint",
                 str(paired_ckpt), "--calibration", "shifted_dofp")
    if not (root / "syn_cyclegan" / "manifest.json").is_file():
        polaraug("translate", str(root / "pool" / "rgb"), str(root / "syn_cyclegan"), "--checkpoint",
                 str(cyclegan_ckpt))


def ood_filtered(root: Path, drop: float) -> Path:
    """The paired translations without their ``drop`` share of most out-of-distribution frames (the OOD model
    and the filtered set are made once and kept under ``root``)."""
    model = root / "ood" / "ood.pt"
    if not model.is_file():
        polaraug("ood", "train", "--real", str(root / "real_train"), "--generated", str(root / "syn_paired"),
                 "--generated", str(root / "syn_cyclegan"), "--out", str(model))
    out = root / f"syn_paired_ood{round(100 * drop)}"
    if not (out / "manifest.json").is_file():
        polaraug("ood", "filter", str(root / "syn_paired"), str(out), "--model", str(model), "--drop", str(drop))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="where the sets are rendered (kept)")
    p.add_argument("--ablation-runs", type=Path, required=True, help="translator_ablation.py's --runs")
    p.add_argument("--out", type=Path, default=None, help="eval-detection's folder (default: DATA/experiment)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--ratio", type=float, action="append", default=None, help="repeat for a sweep (default 2)")
    p.add_argument("--imgsz", type=int, default=128)
    p.add_argument("--figures", type=Path, default=ROOT / "docs" / "figures")
    p.add_argument("--ood-drop", type=float, default=None,
                   help="also add an arm of the paired translations without their DROP share of most "
                        "out-of-distribution frames (an OOD model trained on the real training frames against "
                        "both translated sets): only that arm trains, the others are reused")
    args = p.parse_args()
    paired = args.ablation_runs / "paired-stokes_s0" / "train" / "checkpoints" / "last.pt"
    cyclegan = args.ablation_runs / "cyclegan-project_s0" / "train" / "checkpoints" / "last.pt"
    make_data(args.data, paired, cyclegan)
    out = args.out or args.data / "experiment"
    d = args.data
    ratios = [x for r in (args.ratio or [2.0]) for x in ("--ratio", str(r))]
    synthetic = ["--synthetic", f"paired={d / 'syn_paired'}", "--synthetic", f"cyclegan={d / 'syn_cyclegan'}"]
    if args.ood_drop is not None:
        synthetic += ["--synthetic", f"paired-ood{round(100 * args.ood_drop)}={ood_filtered(d, args.ood_drop)}"]
    polaraug("eval-detection", "--real-train", str(d / "real_train"), "--real-val", str(d / "real_val"),
             "--real-test", str(d / "real_test"), *synthetic, "--oracle", str(d / "pool" / "polar"),
             "--control", "paired", "--classes", "car,truck,bus", "--seeds", str(args.seeds), "--epochs",
             str(args.epochs), "--imgsz", str(args.imgsz), "--batch", "8", *ratios, "--out", str(out))
    results = json.loads((out / "results.json").read_text())
    results["benchmark"] = {"sets": SETS, "frame_size": "192x144", "domain": "shifted",
                            "translators": {"paired": str(paired), "cyclegan": str(cyclegan)}}
    args.figures.mkdir(parents=True, exist_ok=True)
    (args.figures / "detection_experiment.json").write_text(json.dumps(results, indent=1) + "\n")
    for chart in ("report_map50.png", "report_weather.png", "report_curves.png", "report_sweep.png"):
        if (out / chart).is_file():
            shutil.copyfile(out / chart, args.figures / f"detection_experiment_{chart.removeprefix('report_')}")
    print((out / "report.md").read_text())


if __name__ == "__main__":
    main()
