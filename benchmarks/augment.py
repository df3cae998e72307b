"""Benchmark: polaraug transforms vs the plain albumentations / kornia transforms they wrap, in one run.

4-channel 512x512 frames (uint8 and float32 for albumentations, a float batch of 8 for kornia);
frames/s of each and the ratio polaraug/plain time (1.0 = no overhead). Target: polaraug within 1.5x.
A second ratio compares with the plain transform followed by one copy of its output ("plain+copy"): the
polarization fix is at least one more pass over the pixels, and on this VM fresh output memory costs page
faults that a view-returning plain flip never pays.

    .venv/bin/python benchmarks/augment.py [--size 512] [--repeats 30]
"""

from __future__ import annotations

import argparse
import statistics
import time

import albumentations as A
import kornia.augmentation as K
import numpy as np
import torch

from polaraug.augment import albu as P
from polaraug.augment import kornia_aug as PK
from polaraug.physics import camera_matrix, intensities_from_stokes
from polaraug.physics.quantize import quantize_admissible
from polaraug.synth import polarized_test_pattern


def timed(fn, repeats: int) -> float:
    fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--quick", action="store_true", help="64 px, 2 repeats (a smoke test; ratios mean nothing)")
    args = ap.parse_args()
    if args.quick:
        args.size, args.repeats = 64, 2
    a = camera_matrix(dtype=np.float64)
    y = intensities_from_stokes(polarized_test_pattern(args.size, args.size), a).astype(np.float32)
    images = {"float32": y, "uint8": quantize_admissible(y, a, 8)}
    pairs = [("HorizontalFlip", A.HorizontalFlip(p=1), P.PolarHorizontalFlip(p=1)),
             ("RandomRotate90", A.RandomRotate90(p=1), P.PolarRandomRotate90(p=1)),
             ("Rotate(±30)", A.Rotate(limit=30, p=1), P.PolarRotate(limit=30, p=1)),
             ("Affine(rot, scale)", A.Affine(rotate=(-30, 30), scale=(0.8, 1.2), p=1),
              P.PolarAffine(rotate=(-30, 30), scale=(0.8, 1.2), p=1))]
    print(f"albumentations, one {args.size}x{args.size}x4 frame, median of {args.repeats}")
    worst = 0.0
    for dtype, img in images.items():
        for name, plain, polar in pairs:
            tp = timed(lambda plain=plain, img=img: plain(image=img), args.repeats)
            tc = timed(lambda plain=plain, img=img: plain(image=img)["image"].copy(), args.repeats)
            to = timed(lambda polar=polar, img=img: polar(image=img), args.repeats)
            worst = max(worst, to / tp)
            print(f"  {dtype:<8} {name:<20} plain {1 / tp:7.0f} fr/s  polaraug {1 / to:7.0f} fr/s  "
                  f"ratio {to / tp:5.2f}x  (vs plain+copy {to / tc:4.2f}x)")
    batch = torch.from_numpy(y).permute(2, 0, 1)[None].repeat(8, 1, 1, 1).contiguous()
    kpairs = [("RandomHorizontalFlip", K.RandomHorizontalFlip(p=1.0), PK.PolarRandomHorizontalFlip(p=1.0)),
              ("RandomRotation(30)", K.RandomRotation(degrees=30.0, p=1.0),
               PK.PolarRandomRotation(degrees=30.0, p=1.0)),
              ("RandomAffine", K.RandomAffine(degrees=30.0, scale=(0.8, 1.2), p=1.0),
               PK.PolarRandomAffine(degrees=30.0, scale=(0.8, 1.2), p=1.0))]
    print(f"kornia, batch of 8 float32 frames, median of {args.repeats}")
    with torch.no_grad():
        for name, plain, polar in kpairs:
            tp = timed(lambda plain=plain: plain(batch), args.repeats)
            to = timed(lambda polar=polar: polar(batch), args.repeats)
            worst = max(worst, to / tp)
            print(f"  {name:<22} plain {8 / tp:8.0f} fr/s  polaraug {8 / to:8.0f} fr/s  ratio {to / tp:5.2f}x")
    print(f"worst ratio {worst:.2f}x (target <= 1.5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
