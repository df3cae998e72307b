"""Benchmark: the detector's CPU training, how fast on polaraug's thread count against ultralytics' own, and
whether it is deterministic.

ultralytics trains on ``cpu_count - 1`` torch threads on the CPU (one on a 2-core machine); polaraug's
trainings put the count back to every core (``polaraug.engine.device.cpu_threads``). This trains one
data.yaml the way every arm of ``eval-detection`` trains (``deterministic=True``, ``workers=0``): once
untimed, then ultralytics' thread count and polaraug's for ``--rounds`` rounds with the same seed (who goes
first alternates), then once with another seed. It prints seconds per training and the speed ratio (target
> 1: faster), and compares final weights tensor by tensor: the same seed and threads twice (deterministic
when identical), the two thread counts, and the other seed (the control: how far a training moves when
something changes).

    .venv/bin/python benchmarks/detector_training.py DATA_YAML [--epochs 3 --imgsz 128 --batch 8 --nbs 8]
        [--rounds 2 --seed 0 --other-seed 1] [--json docs/figures/detector_training.json]

DATA_YAML: a dataset ``eval-detection`` wrote (e.g. ``OUT/experiments/mix_n25/datasets/real_train/
real_s0.yaml``) or any polarimetric YOLO data.yaml. ``--quick``: 1 epoch, 2 rounds at 32 px, a smoke test
(its ratio means nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

import polaraug  # noqa: F401  (before ultralytics: it reads OMP_NUM_THREADS, which ultralytics' import sets to 1)


def final_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    """The floating-point tensors of a run's ``weights/last.pt`` model (its EMA when it has one).

    Args:
        run_dir: an ultralytics run folder.

    Returns:
        name -> float32 tensor.
    """
    ckpt = torch.load(run_dir / "weights" / "last.pt", map_location="cpu", weights_only=False)
    model = ckpt.get("ema") or ckpt["model"]
    return {k: v.float() for k, v in model.state_dict().items() if v.is_floating_point()}


def compare(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> dict:
    """How far two state dicts of one architecture are apart.

    Returns:
        {"max_abs": largest |a - b| over all elements, "identical_tensors": how many are bitwise equal,
        "tensors": how many were compared}.
    """
    return {"max_abs": max((a[k] - b[k]).abs().max().item() for k in a),
            "identical_tensors": sum(torch.equal(a[k], b[k]) for k in a), "tensors": len(a)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data_yaml", type=Path)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--imgsz", type=int, default=128)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--nbs", type=int, default=8)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--other-seed", type=int, default=1)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()
    if args.quick:
        args.epochs, args.rounds, args.imgsz = 1, 2, 32
    os.environ.setdefault("YOLO_OFFLINE", "true")

    from ultralytics.utils import NUM_THREADS

    from polaraug.detect.evaluation import _train
    from polaraug.detect.settings import DetectionSettings
    from polaraug.engine.device import cpu_threads

    settings = DetectionSettings(epochs=args.epochs, imgsz=args.imgsz, batch=args.batch, nbs=args.nbs,
                                 seeds=(args.seed,))
    counts = {"ultralytics": NUM_THREADS, "polaraug": cpu_threads()}
    seconds: dict[str, list[float]] = {k: [] for k in counts}
    weights: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        def train(name: str, threads: int, seed: int) -> dict:
            t0 = time.perf_counter()
            run = _train(settings, args.data_yaml.resolve(), Path(tmp) / "runs", name, seed, validated=False,
                         threads=threads)
            return {"seconds": time.perf_counter() - t0, "weights": final_weights(run)}

        train("warmup", counts["polaraug"], args.seed)  # first-training costs (imports, caches) out of the timing
        for r in range(args.rounds):
            for who in list(counts)[:: 1 if r % 2 == 0 else -1]:  # alternate who goes first
                n = counts[who]
                out = train(f"{who}{r}", n, args.seed)
                seconds[who].append(out["seconds"])
                if r < 2:  # the first two rounds' weights: the same training twice
                    weights[who if r == 0 else f"{who}_again"] = out["weights"]
        other = train("other", counts["polaraug"], args.other_seed)["weights"]
    mean = {k: statistics.mean(v) for k, v in seconds.items()}
    result = {"data": str(args.data_yaml), "epochs": args.epochs, "imgsz": args.imgsz, "batch": args.batch,
              "nbs": args.nbs, "rounds": args.rounds, "torch": torch.__version__, "threads": counts,
              "seconds": seconds, "speed_ratio": mean["ultralytics"] / mean["polaraug"],
              "threads_vs_threads": compare(weights["ultralytics"], weights["polaraug"]),
              "other_seed": compare(weights["polaraug"], other)}
    if args.rounds > 1:
        result["same_seed_again"] = {who: compare(weights[who], weights[f"{who}_again"]) for who in counts}
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
