"""GPU check: does every GPU path of polaraug run, and how fast? One table, non-zero exit on any failure.

On a CUDA machine, after the README's install, in about 5–8 minutes:

1. trains every translator objective (CycleGAN intensities + projection, CycleGAN Stokes head, paired Stokes
   head, paired with wgan-gp, paired with the two-scale discriminator + feature matching) for a few
   hundred steps (200; bf16 autocast, as ``polaraug train`` runs on CUDA) and reports steps/s;
2. translates 1000 frames of 1280×720 with the paired checkpoint (batch 8), reporting frames/s and peak
   GPU memory;
3. runs ``eval-detection`` for 2 epochs on the GPU (real, real+translated);
4. runs a 2-process ``torchrun`` training (on one GPU when only one is present: both processes share it,
   through gloo, as NCCL refuses two ranks on one device) and checks that it wrote a checkpoint.

Everything it reads it renders first (``polaraug synth``); nothing is downloaded. ``--device cpu --quick``
runs the same steps at toy sizes on the CPU, to check the script itself on a machine without a GPU.

    .venv/bin/python benchmarks/gpu_check.py                  # on the GPU machine
    .venv/bin/python benchmarks/gpu_check.py --device cpu --quick
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import torch

OBJECTIVES = {  # name: (training inputs: paired or unpaired, config overrides)
    "cyclegan intensities+project": ("unpaired", {"head": "intensities", "mode": "project"}),
    "cyclegan stokes": ("unpaired", {"head": "stokes", "mode": "none"}),
    "paired stokes": ("paired", {"head": "stokes", "mode": "project"}),
    "paired stokes wgan-gp": ("paired", {"head": "stokes", "mode": "project", "gan_loss": "wgan-gp",
                                         "n_critic": 5}),
    "paired stokes 2-scale D + FM": ("paired", {"head": "stokes", "mode": "project", "d_scales": 2,
                                                "lambda_fm": 40.0}),
}


def polaraug(*args: str, env: dict | None = None, torchrun: int = 0) -> None:
    """Run the CLI as a user would (``torchrun -m polaraug`` with ``torchrun`` processes)."""
    cmd = [sys.executable, "-m", "polaraug", *args]
    if torchrun:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={torchrun}",
               "-m", "polaraug", *args]
    res = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if res.returncode:
        tail = "\n".join((res.stdout + res.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"{' '.join(cmd[2:6])} ... exited {res.returncode}:\n{tail}")


class Checks:
    """Runs named checks, keeps one row each, never stops at a failure."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []

    def run(self, name: str, fn: Callable[[], str]) -> None:
        t0 = time.perf_counter()
        try:
            result, status = fn(), "ok"
        except Exception as e:  # a failing check is reported in the table, and fails the script
            traceback.print_exc()
            result, status = str(e).splitlines()[0][:90], "FAIL"
        self.rows.append((name, status, f"{result} ({time.perf_counter() - t0:.0f} s)"))
        print(f"[{status}] {name}: {self.rows[-1][2]}", flush=True)

    def table(self) -> str:
        w = max(len(r[0]) for r in self.rows)
        return "\n".join([f"{'check':<{w}}  status  result", "-" * (w + 40)]
                         + [f"{n:<{w}}  {s:<6}  {r}" for n, s, r in self.rows])

    @property
    def failed(self) -> bool:
        return any(s != "ok" for _, s, _ in self.rows)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda", help="cuda (default) or cpu (with --quick, a dry run)")
    p.add_argument("--quick", action="store_true", help="toy sizes: check the script, not the GPU")
    p.add_argument("--work", type=Path, default=None, help="working folder (default: a temporary one, removed)")
    args = p.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device: run this on a GPU machine (or --device cpu --quick to check the script)")
        return 2
    quick = args.quick
    steps = 2 if quick else 200  # quick: the script's check, in seconds a step on the CPU
    frames, size = (4, "320x180") if quick else (1000, "1280x720")
    det_size, epochs = ("128", "1") if quick else ("640", "2")
    work = args.work or Path(tempfile.mkdtemp(prefix="polaraug_gpu_check_"))
    dev = args.device
    checks = Checks()
    print(f"torch {torch.__version__}, device {dev}"
          + (f" ({torch.cuda.get_device_name(0)}, {torch.cuda.device_count()} GPU)" if dev.startswith("cuda")
             else ""), flush=True)

    def data() -> str:
        polaraug("synth", str(work / "pairs"), "-n", "16" if quick else "64", "--size", "256x256", "--mode",
                 "paired", "--seed", "0", "--workers", "2")
        polaraug("synth", str(work / "test"), "-n", "8" if quick else "32", "--size", "256x256", "--mode", "polar",
                 "--seed", "1", "--workers", "2")
        polaraug("synth", str(work / "big"), "-n", "4", "--size", size, "--mode", "rgb", "--seed", "2", "--workers",
                 "2")
        src = sorted(p for p in (work / "big").rglob("*") if p.suffix.lower() in (".jpg", ".png"))
        many = work / "many"
        many.mkdir(exist_ok=True)
        for i in range(frames):  # the same few renders under many names: speed does not depend on content
            target = many / f"frame_{i:05d}{src[i % len(src)].suffix}"
            if not target.exists():
                os.link(src[i % len(src)], target)
        return f"{frames} frames of {size} to translate"

    checks.run("render data", data)
    from polaraug.translate.train import TrainingInputs, train_from_folders

    ckpts: dict[str, Path] = {}

    def train(name: str, kind: str, overrides: dict) -> Callable[[], str]:
        def run() -> str:
            inputs = (TrainingInputs(paired=work / "pairs") if kind == "paired" else
                      TrainingInputs(rgb=work / "pairs" / "rgb", polar=work / "pairs" / "polar"))
            out = work / "runs" / name.replace(" ", "_").replace("+", "")
            t0 = time.perf_counter()
            res = train_from_folders(inputs, out, preset="cpu-medium" if quick else "reference",
                                     overrides={"crop": 64 if quick else 256, "batch": 4, **overrides},
                                     max_steps=steps, device=dev, checkpoint_every=10**9, sample_every=10**9,
                                     progress=False)
            ckpts[name] = res.checkpoint
            return f"{res.steps / (time.perf_counter() - t0):.2f} steps/s ({res.steps} steps)"
        return run

    for name, (kind, overrides) in OBJECTIVES.items():
        checks.run(f"train {name}", train(name, kind, overrides))

    def translate() -> str:
        from polaraug.cameras import load_camera
        from polaraug.translate import load_translator
        from polaraug.translate.dataset import translate_dataset

        model, _ = load_translator(ckpts["paired stokes"], dev)
        if dev.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        summary = translate_dataset(work / "many", work / "translated_many", model, ckpts["paired stokes"],
                                    load_camera("ideal"),
                                    batch=8, progress=False)
        rate = summary.written / (time.perf_counter() - t0)
        mem = f", peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB" if dev.startswith("cuda") else ""
        return f"{rate:.1f} frames/s ({summary.written} written){mem}"

    checks.run(f"translate {frames} x {size}", translate)

    def detection() -> str:
        polaraug("translate", str(work / "pairs" / "rgb"), str(work / "translated"), "--checkpoint",
                 str(ckpts["paired stokes"]), "--device", dev)
        device = "0" if dev.startswith("cuda") else "cpu"
        polaraug("eval-detection", "--real-train", str(work / "pairs" / "polar"), "--real-test", str(work / "test"),
                 "--synthetic", f"translated={work / 'translated'}", "--control", "none", "--seeds", "1",
                 "--epochs", epochs, "--imgsz", det_size, "--batch", "16", "--device", device, "--out",
                 str(work / "detection"))
        return f"report {work / 'detection' / 'report.md'}"

    checks.run(f"eval-detection {epochs} epoch(s)", detection)

    def torchrun() -> str:
        polaraug("train", "--paired", str(work / "pairs"), "--out", str(work / "torchrun"), "--preset", "cpu-small",
                 "--head", "stokes", "--steps", "10", "--device", dev, torchrun=2)
        ckpt = work / "torchrun" / "checkpoints" / "last.pt"
        if not ckpt.is_file():
            raise RuntimeError("torchrun training wrote no checkpoint")
        gpus = torch.cuda.device_count() if dev.startswith("cuda") else 0
        return f"2 processes on {gpus or 'no'} GPU(s): checkpoint written"

    checks.run("torchrun 2 processes", torchrun)
    print("\n" + checks.table())
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
