"""Ablation of the translator's constraint modes: same data, budget and seed; scores on paired val data.

Generates a paired set with ``polaraug synth``, trains one ``cpu-small`` translator per mode (none, relax,
project, proximal) for ``--steps`` steps, evaluates each with ``eval-translator`` on the val split, and
prints a Markdown table (also written to OUT/ablation.md and OUT/ablation.json).

    .venv/bin/python benchmarks/ablation.py --out /tmp/ablation [--frames 200] [--steps 1000]

``--quick``: 6 frames of 96x72, 2 steps per mode, written to ``--out`` or a temporary folder: a smoke test the
suite runs (its scores mean nothing).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

from polaraug.cameras import load_camera
from polaraug.synth.generate import SynthConfig, generate
from polaraug.translate import PRESETS, load_translator
from polaraug.translate.data import UnpairedCrops
from polaraug.translate.evaluate import evaluate
from polaraug.translate.train import train

MODES = ("none", "relax", "project", "proximal")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=None, help="results folder (required without --quick)")
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--size", default="128x96")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="6 frames of 96x72, 2 steps per mode")
    args = ap.parse_args()
    if args.quick:
        args.frames, args.size, args.steps = 6, "96x72", 2
        if args.out is None:
            with tempfile.TemporaryDirectory() as d:
                args.out = Path(d)
                return run(args)
    if args.out is None:
        ap.error("--out is required (or --quick)")
    return run(args)


def run(args: argparse.Namespace) -> int:
    """Render, train one translator per mode, score, print and write the table.

    Args:
        args: the parsed command line.

    Returns:
        0.
    """
    w, h = (int(v) for v in args.size.split("x"))
    data_dir = args.out / "data"
    generate(SynthConfig(n=args.frames, width=w, height=h, seed=args.seed), data_dir, progress=False)
    camera = load_camera("ideal")
    rows = []
    for mode in MODES:
        cfg = dataclasses.replace(PRESETS["cpu-small"], mode=mode, head="intensities")  # the modes act on intensities
        data = UnpairedCrops.from_folders(data_dir / "rgb", data_dir / "polar", camera, crop=cfg.crop,
                                          batch=cfg.batch, seed=args.seed)
        t0 = time.perf_counter()
        result = train(data, args.out / f"run_{mode}", cfg, camera, seed=args.seed, max_steps=args.steps,
                       checkpoint_every=args.steps, sample_every=args.steps, progress=False)
        seconds = time.perf_counter() - t0
        model, _ = load_translator(result.checkpoint)
        scores = evaluate(model, data_dir, split="val")
        rows.append({"mode": mode, "train_seconds": round(seconds, 1), **scores.to_dict()})
        print(f"{mode}: done in {seconds:.0f} s", flush=True)
    head = ("| mode | PSNR I0/I45/I90/I135 (dB) | SSIM mean | DoLP MAE | AoLP err (°, DoLP-wt) | inadmissible | "
            "residual rms |\n|---|---|---|---|---|---|---|\n")
    body = "".join(
        f"| {r['mode']} | {' / '.join(f'{v:.2f}' for v in r['psnr'].values())} | "
        f"{sum(r['ssim'].values()) / 4:.3f} | {r['dolp_mae']:.4f} | {r['aolp_error_deg']:.1f} | "
        f"{100 * r['inadmissible_fraction']:.3f} % | {r['residual_rms']:.4f} |\n" for r in rows)
    table = (f"{args.frames} paired {args.size} frames (seed {args.seed}), cpu-small, {args.steps} steps each, "
             f"val split ({rows[0]['frames']} frames)\n\n" + head + body)
    print(table)
    (args.out / "ablation.md").write_text(table)
    (args.out / "ablation.json").write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
