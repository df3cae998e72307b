"""Benchmark: ``validate`` frames/s vs decoding the same files alone (the floor any validator pays), both
with the same number of worker processes, in one run. Target: validate >= 0.8x decode-only.

    .venv/bin/python benchmarks/validate.py [--frames 200 --size 640x480 --workers 2]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import tempfile
import time
from pathlib import Path

from polaraug.data.polarset import scan_polarimetric
from polaraug.synth.generate import SynthConfig, generate
from polaraug.validate import validate


def _decode(frame) -> int:
    return int(frame.read().shape[0])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="4 frames of 64x48 (a smoke test; ratios mean nothing)")
    args = ap.parse_args()
    if args.quick:
        args.frames, args.size = 4, "64x48"
    w, h = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "set"
        generate(SynthConfig(n=args.frames, width=w, height=h, mode="polar"), root, progress=False)
        _, frames = scan_polarimetric(root)
        times = {"decode only": [], "validate": []}
        ctx = mp.get_context("fork")
        for _ in range(2):
            t0 = time.perf_counter()
            with ctx.Pool(args.workers) as pool:
                list(pool.imap(_decode, frames, chunksize=4))
            times["decode only"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            validate(root, workers=args.workers)
            times["validate"].append(time.perf_counter() - t0)
        best = {k: min(v) for k, v in times.items()}
        print(f"{args.frames} frames {w}x{h} 16-bit 4-channel PNG, {args.workers} workers (best of 2)")
        for k, t in best.items():
            print(f"  {k:<12} {args.frames / t:7.1f} frames/s")
        print(f"validate / decode-only throughput: {best['decode only'] / best['validate']:.2f}x (target >= 0.8x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
