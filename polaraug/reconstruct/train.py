"""``polaraug reconstruct train``: train the pixel-wise conditioned GAN; rerunning a run folder resumes
exactly (batches, masks and noise are functions of (seed, step)).

Run folder: ``config.json``, ``checkpoints/last.pt``, ``log.csv`` (losses, constraint MSE),
``samples/step_*.png`` (original | constraints | two samples | satisfied-pixel map at ε).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from polaraug.io.atomic import write_text
from polaraug.io.images import write_image
from polaraug.translate.train import ResumableCsv, pick_device
from polaraug.viz.colorize import gray_rgb

from .checkpoint import load_checkpoint, save_checkpoint
from .config import ReconstructConfig
from .data import Crops
from .model import PixelConditionedGAN

SATISFIED_EPS = 0.1  # a known pixel is "satisfied" when every channel is within ε ([0, 1] units)


@dataclass
class TrainResult:
    steps: int
    checkpoint: Path
    log: Path


def display(x: torch.Tensor) -> np.ndarray:
    """(C, H, W) in [-1, 1] -> (H, W, 3) uint8: RGB as is, polarimetric as s0 / 2 = (I0 + I45 + I90 + I135) / 4
    (the ideal-camera intensity, gray)."""
    img = ((x.float().cpu().permute(1, 2, 0).numpy() + 1) / 2).clip(0, 1)
    if img.shape[-1] == 3:
        return np.round(img * 255).astype(np.uint8)
    return gray_rgb(img.mean(axis=-1))


def satisfied_map(fake: torch.Tensor, real: torch.Tensor, m: torch.Tensor, eps: float = SATISFIED_EPS) -> np.ndarray:
    """(H, W, 3) uint8 of one sample: known pixels green when satisfied (|G − c| < ε), red when not; black
    elsewhere. Images (C, H, W) in [-1, 1], mask (1, H, W)."""
    ok = ((fake - real).abs() / 2 < eps).all(dim=0).cpu().numpy()
    known = m[0].cpu().numpy() > 0
    out = np.zeros((*known.shape, 3), np.uint8)
    out[known & ok] = (0, 255, 0)
    out[known & ~ok] = (255, 0, 0)
    return out


def sample_grid(model: PixelConditionedGAN, real: torch.Tensor, m: torch.Tensor, seed: int = 0) -> np.ndarray:
    """(H, 5W, 3) uint8 for the first image: original | constraints | sample | sample | satisfied map."""
    gen = torch.Generator().manual_seed(seed)
    x, mk = real[:1], m[:1]
    samples = [model.complete(x, mk, gen, keep_known=False) for _ in range(2)]
    constraints = display(x[0]) * (mk[0, 0].cpu().numpy()[..., None] > 0)
    return np.concatenate([display(x[0]), constraints, display(samples[0][0]), display(samples[1][0]),
                           satisfied_map(samples[0][0], x[0], mk[0])], axis=1)


def train(data: Crops, run_dir: str | Path, cfg: ReconstructConfig, steps: int, seed: int = 0,
          device: str | None = None, checkpoint_every: int = 500, sample_every: int = 250, log_every: int = 10,
          progress: bool = True) -> TrainResult:
    """Train (or resume) in ``run_dir`` up to ``steps`` steps."""
    from tqdm import tqdm

    run = Path(run_dir)
    dev = pick_device(device)
    ckpt = run / "checkpoints" / "last.pt"
    a = torch.from_numpy(data.camera.matrix()).float() if data.camera is not None else None
    identity = {"config": cfg.to_dict(), "seed": seed, "data": data.identity(),
                "camera": data.camera.to_dict() if data.camera else None}
    if ckpt.exists():
        model, state = load_checkpoint(ckpt, resume=True, device=dev)
        start = int(state["step"])
        old = json.loads((run / "config.json").read_text()) if (run / "config.json").is_file() else None
        if old != json.loads(json.dumps(identity)):
            raise ValueError(f"{ckpt}: this run was started with other settings, seed or data; resume with the "
                             "same ones or use a new run folder")
        if start > steps:
            raise ValueError(f"{ckpt}: already trained {start} steps, more than the {steps} asked for")
    else:
        model, start = PixelConditionedGAN(cfg, a, seed=seed).to(dev), 0
        write_text(run / "config.json", json.dumps(identity, indent=2) + "\n")
    cam = data.camera.to_dict() if data.camera is not None else None
    log = ResumableCsv(run / "log.csv", start)
    bar = tqdm(total=steps, initial=start, disable=not progress, unit="it", desc="reconstruct train")
    t0 = time.perf_counter()
    for step in range(start, steps):
        real, m, z = (t.to(dev) for t in data.batch_at(step))
        losses = model.training_step(real, m, z)
        if not all(np.isfinite(v) for v in losses.values()):
            raise FloatingPointError(f"step {step}: non-finite loss {losses}; last good checkpoint: {ckpt}")
        done = step + 1
        bar.update(1)
        bar.set_postfix(mse=f"{losses['constraint_mse']:.4f}")
        if done % log_every == 0 or done == steps:
            rate = (done - start) / max(time.perf_counter() - t0, 1e-9)
            log.write({"step": done, **{k: round(v, 6) for k, v in losses.items()}, "it_per_s": round(rate, 3)})
        if done % sample_every == 0 or done == steps:
            write_image(run / "samples" / f"step_{done:07d}.png", sample_grid(model, real, m, seed))
        if done % checkpoint_every == 0 or done == steps:
            save_checkpoint(model, ckpt, done, seed, cam)
    bar.close()
    if start >= steps and not ckpt.exists():
        save_checkpoint(model, ckpt, start, seed, cam)
    return TrainResult(max(start, steps), ckpt, run / "log.csv")
