"""Benchmark: ingest and generation throughput, each against a baseline measured in the same run.

1. Labels: a generated BDD100K det_20 file of 70,000 frames (~18.5 boxes each, like det_train) parsed into
   polaraug frames by the streaming reader vs ``json.load`` of the whole file (the usual approach),
   in separate processes so peak memory (max RSS) is comparable. Prints frames/s and the RSS ratio.
2. Images: streaming-read of generated JPEGs (decode) in frames/s.
3. Generator: ``polaraug synth`` frames/s at 256x256 and 1280x720 (paired RGB + polarimetric), and the
   1000-frame 256x256 time this predicts.

    .venv/bin/python benchmarks/ingest.py [--frames 70000] [--workers 2]

``--quick``: 200 label frames, a few tiny generated frames, a smoke test the suite runs (its rates mean
nothing).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CATEGORIES = ["car", "pedestrian", "traffic sign", "traffic light", "truck", "bus", "rider", "bike", "motor"]


def make_det20(path: Path, n: int, seed: int = 0) -> None:
    """A det_20-shaped file with n frames (written in pieces to keep this script's memory low)."""
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        f.write("[")
        for i in range(n):
            k = int(rng.integers(5, 32))  # ~18.5 boxes a frame, as in det_train (1.29M boxes, 70k frames)
            xy = rng.uniform(0, 1200, (k, 2))
            wh = rng.uniform(5, 80, (k, 2))
            labels = [{"id": str(i * 100 + j), "category": CATEGORIES[j % len(CATEGORIES)],
                       "attributes": {"occluded": bool(j % 2), "truncated": False, "trafficLightColor": "NA"},
                       "box2d": {"x1": float(xy[j, 0]), "y1": float(xy[j, 1] * 0.55),
                                 "x2": float(min(xy[j, 0] + wh[j, 0], 1279)),
                                 "y2": float(min(xy[j, 1] * 0.55 + wh[j, 1], 719))}} for j in range(k)]
            rec = {"name": f"{i:08x}-{i:08x}.jpg", "attributes": {"weather": "clear", "timeofday": "daytime",
                                                                    "scene": "city street"}, "labels": labels}
            f.write(("," if i else "") + "\n" + json.dumps(rec))
        f.write("\n]\n")


CHILD = r"""
import json, resource, sys, time
from pathlib import Path
mode, path = sys.argv[1], Path(sys.argv[2])
t0 = time.perf_counter()
if mode == "polaraug":
    from polaraug.data.bdd100k import read_bdd100k
    n = 0
    boxes = 0
    for frame in read_bdd100k(path.parent, "train", labels=path, check_images=False):
        n += 1
        boxes += len(frame.boxes)
else:
    data = json.load(open(path))
    n = len(data)
    boxes = sum(len(f.get("labels", [])) for f in data)
dt = time.perf_counter() - t0
print(json.dumps({"frames": n, "boxes": boxes, "seconds": dt,
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_child(mode: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_labels(n: int, tmp: Path) -> None:
    path = tmp / "det_train.json"
    make_det20(path, n)
    size_mb = path.stat().st_size / 2**20
    ours, base = run_child("polaraug", path), run_child("json.load", path)
    print(f"labels: {n} frames, {ours['boxes']} boxes, {size_mb:.0f} MB")
    print(f"  polaraug stream   {ours['seconds']:6.2f} s  {ours['frames'] / ours['seconds']:8.0f} frames/s  "
          f"max RSS {ours['max_rss_mb']:6.0f} MB (frames parsed into Box objects)")
    print(f"  json.load (dicts) {base['seconds']:6.2f} s  {base['frames'] / base['seconds']:8.0f} frames/s  "
          f"max RSS {base['max_rss_mb']:6.0f} MB (whole file in memory, no validation)")
    print(f"  ratio polaraug/json.load: time {ours['seconds'] / base['seconds']:.2f}x, "
          f"peak memory {ours['max_rss_mb'] / base['max_rss_mb']:.2f}x")


SIZES = (((256, 256), 120), ((1280, 720), 16))  # (generated frame size, frames); the last is stream-read too
QUICK_SIZES = (((64, 64), 4), ((128, 72), 2))


def bench_generation(tmp: Path, workers: int, sizes: tuple = SIZES) -> None:
    """synth's paired frames/s at each size, then the stream-read rate of the last size's RGB JPEGs.

    Args:
        tmp: a scratch folder.
        workers: synth's worker processes.
        sizes: ((width, height), frames) to generate.
    """
    from polaraug.data.bdd100k import read_bdd100k
    from polaraug.io.images import read_image
    from polaraug.synth.generate import SynthConfig, generate

    for (w, h), n in sizes:
        out = tmp / f"synth_{w}x{h}"
        t0 = time.perf_counter()
        generate(SynthConfig(n=n, width=w, height=h), out, workers=workers, progress=False)
        dt = time.perf_counter() - t0
        print(f"synth paired {w}x{h}: {n / dt:6.1f} frames/s with {workers} workers"
              + (f" -> 1000 frames in ~{1000 * dt / n:.0f} s" if w == 256 else ""))
    (w, h), _ = sizes[-1]
    frames = list(read_bdd100k(tmp / f"synth_{w}x{h}" / "rgb", "train"))
    t0 = time.perf_counter()
    for f in frames:
        read_image(f.image)
    dt = time.perf_counter() - t0
    print(f"image stream-read {w}x{h} JPEG: {len(frames) / dt:6.1f} frames/s (one process)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=70000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="200 label frames; 4 frames of 64x64, 2 of 128x72; 1 worker")
    args = ap.parse_args()
    if args.quick:
        args.frames, args.workers = 200, 1
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        bench_labels(args.frames, tmp)
        bench_generation(tmp, args.workers, QUICK_SIZES if args.quick else SIZES)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
