"""Benchmark: what test-time averaging (``translate --spin N --mirror``) costs, measured in one run.

Times the built-in translator's forward (``translate_batch``: padding, passes, averaging) on random frames of
``--size`` for each averaging, interleaved over ``--rounds`` rounds so that machine noise hits every
setting alike, and prints each one's seconds per frame and its ratio to no averaging beside its number of
passes (the ratio a perfectly linear cost would give).

    .venv/bin/python benchmarks/averaging.py [--size 1280x720 --frames 2 --rounds 2]

``--quick``: one 64x48 frame, one round (a smoke test the suite runs; its ratios mean nothing).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from polaraug.translate.checkpoint import load_translator
from polaraug.translate.infer import Averaging, translate_batch

SETTINGS = (Averaging(), Averaging(2), Averaging(1, True), Averaging(4), Averaging(4, True))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", default="1280x720", help="WxH of the frames")
    p.add_argument("--frames", type=int, default=2, help="frames per setting and round")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--json", type=Path)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.size, args.frames, args.rounds = "64x48", 1, 1
    w, h = (int(v) for v in args.size.split("x"))
    torch.set_grad_enabled(False)
    model, _ = load_translator("default")
    model.eval()
    x = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0)) * 2 - 1
    translate_batch(model, x)  # warm-up: first-call allocations
    seconds = {av: 0.0 for av in SETTINGS}
    for _ in range(args.rounds):
        for av in SETTINGS:
            start = time.perf_counter()
            for _ in range(args.frames):
                translate_batch(model, x, av)
            seconds[av] += time.perf_counter() - start
    base = seconds[SETTINGS[0]]
    rows = []
    for av, s in seconds.items():
        per = s / (args.rounds * args.frames)
        rows.append({**av.to_dict(), "passes": av.passes, "seconds_per_frame": per, "ratio": s / base})
        print(f"{av.describe():<36} {per:8.2f} s/frame  {s / base:6.2f}x the plain forward ({av.passes} passes)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"size": [w, h], "threads": torch.get_num_threads(),
                                         "device": "cpu", "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
