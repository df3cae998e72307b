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

``--quick``: a few 64x48 frames per set, untrained tiny translators (unless ``--ablation-runs`` is given), one
seed of one epoch at 32 px, everything (``--data``, ``--figures``) in a temporary folder unless given: a smoke
test the suite runs (its scores mean nothing).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"
SETS = {  # folder: synth arguments (all 192x144, shifted domain, no val split)
    "real_train": ["-n", "100", "--mode", "polar", "--seed", "21"],
    "real_val": ["-n", "60", "--mode", "polar", "--seed", "22"],
    "real_test": ["-n", "200", "--mode", "polar", "--seed", "23"],
    "pool": ["-n", "400", "--mode", "paired", "--seed", "24"],
}
QUICK_SETS = {name: ["-n", "4" if name != "real_val" else "2", *spec[2:]] for name, spec in SETS.items()}


def polaraug(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "polaraug", *args], check=True)


def tiny_translators(runs: Path) -> None:
    """Untrained tiny translators where translator_ablation.py leaves its paired-stokes and cyclegan-project
    checkpoints (``--quick`` without ``--ablation-runs``).

    Args:
        runs: the folder that plays ``--ablation-runs``.
    """
    from polaraug.physics import camera_matrix
    from polaraug.translate import ConstrainedCycleGAN, TranslatorConfig, save_checkpoint

    for arm, head, mode in (("paired-stokes", "stokes", "none"), ("cyclegan-project", "intensities", "project")):
        cfg = TranslatorConfig(head=head, mode=mode, ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32)
        path = runs / f"{arm}_s0" / "train" / "checkpoints" / "last.pt"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_checkpoint(ConstrainedCycleGAN(cfg, camera_matrix()), path, step=0, epoch=0, camera_name="ideal")


def make_data(root: Path, paired_ckpt: Path, cyclegan_ckpt: Path, sets: dict = SETS, size: str = "192x144") -> None:
    """The sets and both translations of the pool's RGB frames (each skipped when present).

    Args:
        root: where the sets are written.
        paired_ckpt, cyclegan_ckpt: the two translators.
        sets: {folder: synth arguments}.
        size: the frames' WIDTHxHEIGHT.
    """
    for name, spec in sets.items():
        if not (root / name).is_dir():
            polaraug("synth", str(root / name), *spec, "--size", size, "--domain", "shifted", "--val", "0")
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
    p.add_argument("--data", type=Path, default=None, help="where the sets are rendered (kept; required without "
                                                           "--quick)")
    p.add_argument("--ablation-runs", type=Path, default=None, help="translator_ablation.py's --runs (required "
                                                                    "without --quick)")
    p.add_argument("--out", type=Path, default=None, help="eval-detection's folder (default: DATA/experiment)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--ratio", type=float, action="append", default=None, help="repeat for a sweep (default 2)")
    p.add_argument("--imgsz", type=int, default=128)
    p.add_argument("--figures", type=Path, default=FIGURES)
    p.add_argument("--ood-drop", type=float, default=None,
                   help="also add an arm of the paired translations without their DROP share of most "
                        "out-of-distribution frames (an OOD model trained on the real training frames against "
                        "both translated sets): only that arm trains, the others are reused")
    p.add_argument("--quick", action="store_true", help="tiny sets and translators, 1 seed of 1 epoch at 32 px")
    args = p.parse_args()
    if not args.quick:
        if args.data is None or args.ablation_runs is None:
            p.error("--data and --ablation-runs are required (or --quick)")
        run(args, SETS, "192x144")
        return
    args.seeds, args.epochs, args.imgsz = 1, 1, 32
    with tempfile.TemporaryDirectory() as d:
        args.data, args.figures = args.data or Path(d) / "data", args.figures if args.figures != FIGURES else Path(d)
        if args.ablation_runs is None:
            args.ablation_runs = Path(d) / "runs"
            tiny_translators(args.ablation_runs)
        run(args, QUICK_SETS, "64x48")


def run(args: argparse.Namespace, sets: dict, size: str) -> None:
    """Render and translate what is missing, run eval-detection, copy its results and charts to ``--figures``.

    Args:
        args: the parsed command line.
        sets: {folder: synth arguments}.
        size: the frames' WIDTHxHEIGHT.
    """
    paired = args.ablation_runs / "paired-stokes_s0" / "train" / "checkpoints" / "last.pt"
    cyclegan = args.ablation_runs / "cyclegan-project_s0" / "train" / "checkpoints" / "last.pt"
    make_data(args.data, paired, cyclegan, sets, size)
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
    results["benchmark"] = {"sets": sets, "frame_size": size, "domain": "shifted",
                            "translators": {"paired": str(paired), "cyclegan": str(cyclegan)}}
    args.figures.mkdir(parents=True, exist_ok=True)
    (args.figures / "detection_experiment.json").write_text(json.dumps(results, indent=1) + "\n")
    for chart in ("report_map50.png", "report_weather.png", "report_curves.png", "report_sweep.png"):
        if (out / chart).is_file():
            shutil.copyfile(out / chart, args.figures / f"detection_experiment_{chart.removeprefix('report_')}")
    print((out / "report.md").read_text())


if __name__ == "__main__":
    main()
