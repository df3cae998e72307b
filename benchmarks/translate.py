"""Benchmark: ``polaraug translate`` frames/s vs (a) the bare generator forward on the same batches
(decoding, encoding and writing excluded; target >= 0.85x) and (b) a batch-1 loop like the reference
implementation's test script (read, forward, write one frame after another; target >= 1.5x), in one run.

    .venv/bin/python benchmarks/translate.py [--frames 64 --size 320x240 --ngf 32 --blocks 6 --batch 4]

``--quick``: 4 tiny frames and a tiny generator, a smoke test the suite runs (its ratios mean nothing).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from polaraug.cameras import load_camera
from polaraug.data.bdd100k import read_bdd100k
from polaraug.io.images import read_image, write_image
from polaraug.physics import camera_matrix
from polaraug.synth.generate import SynthConfig, generate
from polaraug.translate import ConstrainedCycleGAN, TranslatorConfig, save_checkpoint
from polaraug.translate.dataset import translate_dataset
from polaraug.translate.infer import rgb_to_tensor, translate_batch


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=64)
    ap.add_argument("--size", default="320x240")
    ap.add_argument("--ngf", type=int, default=32)
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--quick", action="store_true", help="4 frames of 64x48, ngf 8, 1 block")
    args = ap.parse_args()
    if args.quick:
        args.frames, args.size, args.ngf, args.blocks = 4, "64x48", 8, 1
    w, h = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        generate(SynthConfig(n=args.frames, width=w, height=h, mode="rgb", val_fraction=0.0), d / "src",
                 progress=False)
        state = ConstrainedCycleGAN(TranslatorConfig(mode="relax", ngf=args.ngf, n_blocks=args.blocks), camera_matrix())
        save_checkpoint(state, d / "c.pt", step=0, epoch=0)
        model = state.translator.eval()  # what translate runs: the generator alone
        frames = list(read_bdd100k(d / "src", "train"))
        images = [read_image(f.image) for f in frames]

        t0 = time.perf_counter()  # (a) bare forward on the same batches
        for i in range(0, len(images), args.batch):
            translate_batch(model, torch.cat([rgb_to_tensor(x) for x in images[i:i + args.batch]]))
        bare = time.perf_counter() - t0

        t0 = time.perf_counter()  # (b) reference-style loop: one frame at a time, read, forward, write
        for f in frames:
            x = rgb_to_tensor(read_image(f.image))
            with torch.no_grad():
                y = ((model.translate(x) + 1) / 2)[0].permute(1, 2, 0).numpy()
            write_image(d / "loop" / f"{f.stem}.png", np.round(np.clip(y, 0, 1) * 65535).astype(np.uint16))
        loop = time.perf_counter() - t0

        t0 = time.perf_counter()
        translate_dataset(d / "src", d / "out", model, d / "c.pt", load_camera("ideal"), batch=args.batch,
                          progress=False)
        ours = time.perf_counter() - t0
        shutil.rmtree(d / "out")
    n = args.frames
    print(f"{n} frames {w}x{h}, ngf {args.ngf}, {args.blocks} blocks, batch {args.batch}, CPU")
    print(f"  bare generator forward   {n / bare:6.2f} frames/s")
    print(f"  batch-1 read/forward/write loop {n / loop:6.2f} frames/s")
    print(f"  polaraug translate       {n / ours:6.2f} frames/s (decode, forward, 16-bit encode, labels, manifest)")
    print(f"translate / bare forward: {bare / ours:.2f}x (target >= 0.85x); translate / batch-1 loop: "
          f"{loop / ours:.2f}x (target >= 1.5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
