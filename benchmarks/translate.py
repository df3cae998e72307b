"""Benchmark: ``polaraug translate`` frames/s vs (a) the bare generator forward on the same batches
(decoding, encoding and writing excluded; target >= 0.85x) and (b) a batch-1 loop like the reference
implementation's test script (read, forward, write one frame after another; target >= 1.5x), in one run.

Then the CPU backends (``translate --backend``) on the built-in translator at ``--backend-size`` (1280x720):
the bare forward of torch (contiguous and channels_last) and of ONNX Runtime, interleaved, with the largest
difference of their 16-bit outputs; and ``translate`` end to end (decode, forward, 16-bit encode, labels,
manifest) with each backend, interleaved over ``--rounds`` rounds: the onnxruntime / torch frames/s ratio
(target >= 1.5x). Skipped when ONNX Runtime is not installed (``pip install -e ".[onnx]"``).

    .venv/bin/python benchmarks/translate.py [--frames 64 --size 320x240 --ngf 32 --blocks 6 --batch 4]
        [--backend-frames 4 --backend-size 1280x720 --rounds 2]

``--quick``: 4 tiny frames and a tiny generator, 2 tiny frames for the backends, a smoke test the suite runs
(its ratios mean nothing).
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
from polaraug.translate import ConstrainedCycleGAN, TranslatorConfig, load_translator, save_checkpoint
from polaraug.translate.backends import onnxruntime_installed, use_backend
from polaraug.translate.builtin import builtin_translator
from polaraug.translate.dataset import translate_dataset
from polaraug.translate.infer import rgb_to_tensor, translate_batch


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=64)
    ap.add_argument("--size", default="320x240")
    ap.add_argument("--ngf", type=int, default=32)
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--backend-frames", type=int, default=4, help="frames per backend and round")
    ap.add_argument("--backend-size", default="1280x720")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds of the backend comparison")
    ap.add_argument("--quick", action="store_true", help="4 frames of 64x48, ngf 8, 1 block")
    args = ap.parse_args()
    if args.quick:
        args.frames, args.size, args.ngf, args.blocks = 4, "64x48", 8, 1
        args.backend_frames, args.backend_size, args.rounds = 2, "64x48", 1
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
    backend_comparison(args.backend_frames, args.backend_size, args.rounds, args.batch, quick=args.quick)
    return 0


def _bare_forwards(images: list[np.ndarray], quick: bool) -> dict[str, float]:
    """Seconds of the bare forward per backend (torch, torch channels_last, onnxruntime), interleaved per
    frame, and how far onnxruntime's outputs are from torch's in steps: at 8 bits the largest, at 16 bits the
    largest and the 99.99th percentile."""
    models = {name: _builtin(quick) for name in ("torch", "torch channels_last", "onnxruntime")}
    models["torch channels_last"].to(memory_format=torch.channels_last)
    use_backend(models["onnxruntime"], "onnxruntime")
    secs = dict.fromkeys(models, 0.0)
    steps: dict[int, list[np.ndarray]] = {8: [], 16: []}
    for img in images:
        x = rgb_to_tensor(img)
        outs = {}
        for name, model in models.items():
            xi = x.contiguous(memory_format=torch.channels_last) if "channels_last" in name else x
            t0 = time.perf_counter()
            outs[name] = translate_batch(model, xi)
            secs[name] += time.perf_counter() - t0
        for bits, found in steps.items():
            a, b = (torch.round(outs[k].clamp(0, 1) * (2**bits - 1)) for k in ("torch", "onnxruntime"))
            found.append((a - b).abs().flatten().numpy())
    s8, s16 = np.concatenate(steps[8]), np.concatenate(steps[16])
    return {**secs, "max8": int(s8.max()), "max16": int(s16.max()), "q16": float(np.quantile(s16, 0.9999))}


def _builtin(quick: bool):
    """The built-in translator (CPU, eval); ``quick``: a tiny random one of the same head."""
    if quick:
        cfg = TranslatorConfig(head="stokes", ngf=4, n_blocks=1)
        return ConstrainedCycleGAN(cfg, camera_matrix()).translator.eval()
    return load_translator(builtin_translator(), device="cpu")[0]


def backend_comparison(n: int, size: str, rounds: int, batch: int, *, quick: bool) -> None:
    """Print the CPU backends' bare-forward and end-to-end frames/s at ``size`` (see the module docstring)."""
    if not onnxruntime_installed():
        print("backends: ONNX Runtime not installed (pip install -e '.[onnx]'): comparison skipped")
        return
    w, h = (int(v) for v in size.split("x"))
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        generate(SynthConfig(n=n, width=w, height=h, mode="rgb", val_fraction=0.0), d / "src", progress=False)
        images = [read_image(f.image) for f in read_bdd100k(d / "src", "train")]
        bare = _bare_forwards(images, quick)
        models = {name: use_backend(_builtin(quick), name) for name in ("torch", "onnxruntime")}
        torch.save({}, d / "c.pt")  # translate_dataset hashes the checkpoint file into the settings
        secs = dict.fromkeys(models, 0.0)
        for r in range(rounds):
            for name, model in (models.items() if r % 2 == 0 else reversed(models.items())):
                t0 = time.perf_counter()
                translate_dataset(d / "src", d / name, model, d / "c.pt", load_camera("ideal"), batch=batch,
                                  bits=16, progress=False)
                secs[name] += time.perf_counter() - t0
                shutil.rmtree(d / name)
    done = n * rounds
    print(f"backends: {n} frames {w}x{h} x {rounds} rounds, {'tiny generator' if quick else 'built-in translator'}, "
          f"{torch.get_num_threads()} threads")
    for name in ("torch", "torch channels_last", "onnxruntime"):
        print(f"  bare forward {name:20s} {n / bare[name]:6.2f} frames/s")
    for name, s in secs.items():
        print(f"  translate --backend {name:12s} {done / s:6.2f} frames/s")
    print(f"onnxruntime / torch end to end: {secs['torch'] / secs['onnxruntime']:.2f}x (target >= 1.5x); bare "
          f"forward {bare['torch'] / bare['onnxruntime']:.2f}x; channels_last / contiguous bare forward "
          f"{bare['torch'] / bare['torch channels_last']:.2f}x")
    print(f"onnxruntime - torch: at most {bare['max8']} step(s) at 8 bits; at 16 bits 99.99 % within "
          f"{bare['q16']:.0f} steps, at most {bare['max16']}")


if __name__ == "__main__":
    raise SystemExit(main())
