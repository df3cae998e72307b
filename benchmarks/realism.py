"""How real do translations look? A real-vs-generated classifier's ROC AUC per generated set, seeds apart.

For each generated set and seed, an OOD classifier (``polaraug ood train``'s) is trained on the first 80 %
of the real frames against the first 80 % of that set alone, then scores the last 20 % of both: the ROC AUC
is a classifier two-sample test (0.5: the classifier cannot tell the sets apart; 1.0: it finds every
generated frame). Each set gets its own classifiers, so the AUCs compare sets, e.g. translations written
with and without the camera's sensor model (``translate --calibration CAM`` with a ``sensor`` section).

Controls that keep it honest: give the real camera's true renders of the same scenes (``--set
oracle=...``): they must score near 0.5, or the classifier measures a difference of scene content
(weather, time of day) rather than a synthetic signature; the real frames should cover the conditions of
the generated ones (e.g. the usefulness benchmark's wide test set).

Run on the usefulness benchmark's sets (``polaraug eval-detection``; about 2 min per classifier on 2 cores)::

    .venv/bin/python benchmarks/realism.py --real U/data/test --set translated=U/data/translated \\
        --set translated+sensor=SENSOR_SET --set oracle=U/data/pool/polar --seeds 2 \\
        --json docs/figures/realism.json

``--quick`` renders two tiny sets itself and trains a few steps (the test suite runs it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from polaraug.ood import OODSettings, train_ood
from polaraug.validate.runner import open_set


def opened(folder: Path) -> tuple[Path, object, list]:
    """(folder, camera, frames) of a polarimetric set, as ``train_ood`` takes it."""
    o = open_set(folder, None)
    return folder, o.camera, o.frames


def classify(real: tuple, generated: tuple, settings: OODSettings) -> dict:
    """Train one classifier of ``real`` against ``generated``; its held-out separation and minutes."""
    t0 = time.perf_counter()
    _, report = train_ood(real, [generated], settings, progress=False)
    return {**report["heldout"], "minutes": (time.perf_counter() - t0) / 60}


def crop_sheet(sets: dict[str, tuple], path: Path, crop: int = 64, frames: int = 3, zoom: int = 3) -> Path:
    """A picture of the sets side by side: per set one row of ``frames`` centre crops, each as s0 and DoLP,
    at 1:1 pixels (``zoom`` x nearest-neighbour, so noise and smoothness stay visible, never resampled).

    Args:
        sets: {name: (folder, camera, frames)}, the first row is the first set (the real one).
        path: the PNG to write.
        crop, frames, zoom: crop side (px), crops per set, pixel replication.

    Returns:
        ``path``.
    """
    import cv2
    import numpy as np

    from polaraug.io.capture import capture_from_array
    from polaraug.io.images import write_image
    from polaraug.physics import dolp, stokes_from_intensities

    label_w, rows = 170, []
    for name, (_, camera, fr) in sets.items():
        tiles = []
        for frame in fr[-frames:]:  # held-out frames: the last ones
            y = capture_from_array(frame.read(), camera, path=frame.paths[0]).intensities
            h, w = y.shape[:2]
            y = y[(h - crop) // 2:(h + crop) // 2, (w - crop) // 2:(w + crop) // 2]
            st = stokes_from_intensities(y.astype(np.float64), camera.matrix(np.float64))
            for plane in (np.clip(st[..., 0] / 2, 0, 1), np.clip(dolp(st) / 0.5, 0, 1)):  # DoLP 0-0.5 full range
                tiles += [np.kron(plane, np.ones((zoom, zoom))), np.ones((crop * zoom, 4))]
        row = (np.concatenate(tiles, axis=1) * 255).astype(np.uint8)
        label = np.full((row.shape[0], label_w), 255, np.uint8)
        cv2.putText(label, name, (4, row.shape[0] // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 0, 1, cv2.LINE_AA)
        rows += [np.concatenate([label, row], axis=1), np.full((4, label_w + row.shape[1]), 255, np.uint8)]
    return write_image(path, np.concatenate(rows, axis=0))


def summary_rows(results: dict) -> list[str]:
    """A Markdown table: per set, AUC mean and range over seeds."""
    rows = ["| generated set | ROC AUC (mean) | range over seeds | held-out frames |", "|---|---|---|---|"]
    for name, runs in results["sets"].items():
        aucs = [r["auc"] for r in runs]
        rows.append(f"| {name} | {statistics.fmean(aucs):.3f} | {min(aucs):.3f}–{max(aucs):.3f} | "
                    f"{runs[0]['real_frames']} real, {runs[0]['generated_frames']} generated |")
    return rows


def quick_sets(root: Path) -> tuple[Path, dict[str, Path]]:
    """Two tiny rendered sets of different cameras: real (shifted domain) and generated (default domain)."""
    from polaraug.synth.generate import SynthConfig, generate

    real, other = root / "real", root / "other"
    generate(SynthConfig(n=6, width=96, height=64, seed=1, mode="polar", domain="shifted", val_fraction=0.0), real,
             progress=False)
    generate(SynthConfig(n=6, width=96, height=64, seed=2, mode="polar", val_fraction=0.0), other, progress=False)
    return real, {"default-domain": other}


def resumed(path: Path | None, settings: dict, real: Path) -> dict | None:
    """The results of an earlier run of the same settings and real set, to continue (None: start afresh)."""
    if path is None or not path.is_file():
        return None
    old = json.loads(path.read_text())
    return old if old.get("settings") == settings and old.get("real") == str(real) else None


def write_json(path: Path, results: dict) -> None:
    """Write the results so far (atomically: an interrupted run keeps the classifiers already scored)."""
    from polaraug.io.atomic import write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(results, indent=1) + "\n")


def parse_sets(values: list[str]) -> dict[str, Path]:
    """``NAME=DIR`` arguments as {name: folder}."""
    sets = {}
    for v in values:
        name, sep, path = v.partition("=")
        if not sep or not name:
            sys.exit(f"--set takes NAME=DIR, got {v!r}")
        sets[name] = Path(path)
    return sets


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--real", type=Path, help="real polarimetric frames (any layout validate reads)")
    p.add_argument("--set", action="append", default=[], help="NAME=DIR of a generated set (repeatable)")
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--steps", type=int, default=OODSettings.steps, help="classifier training steps")
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument("--picture", type=Path, help="write centre crops of every set (s0 | DoLP, 1:1 pixels) here")
    p.add_argument("--quick", action="store_true", help="tiny rendered sets, a few steps (smoke test)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.quick:
            real, sets = quick_sets(Path(tmp))
            args.seeds, args.steps = 1, 3
        elif args.real is None or not args.set:
            sys.exit("give --real and at least one --set NAME=DIR (or --quick)")
        else:
            real, sets = args.real, parse_sets(args.set)
        real_set = opened(real)
        if args.picture:
            crop_sheet({"real": real_set, **{name: opened(folder) for name, folder in sets.items()}}, args.picture,
                       crop=32 if args.quick else 64)
        settings = {"steps": args.steps, "seeds": args.seeds, "holdout": OODSettings.holdout,
                    "crop": OODSettings.crop, "batch": OODSettings.batch}
        results = resumed(args.json, settings, real) or {"settings": settings, "real": str(real), "sets": {}}
        for name, folder in sets.items():
            generated = opened(folder)
            runs = results["sets"].setdefault(name, [])
            for seed in range(len(runs), args.seeds):  # a rerun keeps the classifiers already scored
                run = classify(real_set, generated, OODSettings(steps=args.steps, seed=seed))
                runs.append({"seed": seed, "set": str(folder), **run})
                print(f"{name} seed {seed}: AUC {run['auc']:.3f} ({run['minutes']:.1f} min)", flush=True)
                if args.json:
                    write_json(args.json, results)
    print("\n".join(summary_rows(results)))


if __name__ == "__main__":
    main()
