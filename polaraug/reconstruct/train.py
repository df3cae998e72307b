"""``polaraug reconstruct train``: train the pixel-wise conditioned GAN; rerunning a run folder resumes
exactly (batches, masks and noise are functions of (seed, step)).

Run folder: ``config.json``, ``checkpoints/last.pt``, ``log.csv`` (losses, constraint MSE),
``samples/step_*.png`` (original | constraints | two samples | satisfied-pixel map at ε). The loop is
:class:`polaraug.engine.TrainLoop`; this module brings the step and the sample and checkpoint hooks.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from polaraug.engine import DistContext, Schedule, StepInfo, TrainLoop, TrainResult, pick_device
from polaraug.errors import InputError
from polaraug.io.atomic import write_text
from polaraug.io.images import write_image
from polaraug.viz.colorize import gray_rgb

from .checkpoint import load_checkpoint, save_checkpoint
from .config import ReconstructConfig
from .data import Crops
from .model import PixelConditionedGAN

SATISFIED_EPS = 0.1  # a known pixel is "satisfied" when every channel is within ε ([0, 1] units)

__all__ = ["SATISFIED_EPS", "TrainResult", "display", "sample_grid", "satisfied_map", "train"]


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


def _start_or_resume(run: Path, cfg: ReconstructConfig, data: Crops, *, seed: int, steps: int,
                     device: torch.device) -> tuple[PixelConditionedGAN, int]:
    """The model to train and the steps already done; a resume must have the run's settings, seed and data."""
    ckpt = run / "checkpoints" / "last.pt"
    a = torch.from_numpy(data.camera.matrix()).float() if data.camera is not None else None
    identity = {"config": cfg.to_dict(), "seed": seed, "data": data.identity(),
                "camera": data.camera.to_dict() if data.camera else None}
    if not ckpt.exists():
        write_text(run / "config.json", json.dumps(identity, indent=2) + "\n")
        return PixelConditionedGAN(cfg, a, seed=seed).to(device), 0
    model, state = load_checkpoint(ckpt, resume=True, device=device)
    old = json.loads((run / "config.json").read_text()) if (run / "config.json").is_file() else None
    if old is not None and isinstance(old.get("config"), dict):  # settings added since take their defaults
        old["config"] = {**ReconstructConfig().to_dict(), **old["config"]}
    if old != json.loads(json.dumps(identity)):
        raise InputError(f"{ckpt}: this run was started with other settings, seed or data; resume with the "
                         "same ones or use a new run folder")
    if int(state["step"]) > steps:
        raise InputError(f"{ckpt}: already trained {state['step']} steps, more than the {steps} asked for")
    return model, int(state["step"])


def train(data: Crops, run_dir: str | Path, cfg: ReconstructConfig, steps: int, seed: int = 0, *,
          device: str | None = None, checkpoint_every: int = 500, sample_every: int = 250, log_every: int = 10,
          progress: bool = True) -> TrainResult:
    """Train (or resume) the pixel-wise conditioned GAN in ``run_dir`` up to ``steps`` steps.

    Args:
        data: crops, masks and noise per step.
        run_dir: the run folder (see the module docstring).
        cfg: architecture, λ, PacGAN and optimizer settings.
        steps: total optimizer steps.
        seed: initialisation and sampling seed.
        device: torch device name (default: CUDA when present).
        checkpoint_every, sample_every, log_every: event periods in steps.
        progress: show a progress bar.

    Returns:
        The steps done and the paths of the checkpoint and the log.
    """
    run = Path(run_dir)
    dev = pick_device(device)
    ckpt = run / "checkpoints" / "last.pt"
    model, start = _start_or_resume(run, cfg, data, seed=seed, steps=steps, device=dev)
    cam = data.camera.to_dict() if data.camera is not None else None
    last: dict[str, torch.Tensor] = {}

    def step_fn(step: int) -> dict[str, float]:
        last["real"], last["m"], z = (t.to(dev) for t in data.batch_at(step))
        return model.training_step(last["real"], last["m"], z)

    def sample(info: StepInfo) -> None:
        write_image(run / "samples" / f"step_{info.step:07d}.png", sample_grid(model, last["real"], last["m"], seed))

    loop = TrainLoop(step_fn, Schedule(total=steps, log_every=log_every, sample_every=sample_every,
                                       checkpoint_every=checkpoint_every),
                     start=start, ctx=DistContext(0, 1, dev), run_dir=run, checkpoint=ckpt, progress=progress,
                     postfix=lambda losses: {"mse": f"{losses['constraint_mse']:.4f}"}, desc="reconstruct train")
    loop.add_callback("on_sample", sample)
    loop.add_callback("on_checkpoint", lambda info: save_checkpoint(model, ckpt, info.step, seed, cam))
    return loop.run()
