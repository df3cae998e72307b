"""Reconstruction checkpoints: plain tensors and numbers (``torch.load(weights_only=True)``), carrying the
config and calibration so ``apply`` needs nothing else; optimizer states make resuming exact."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from polaraug.io.atomic import atomic_path
from polaraug.io.checkpoints import load_state

from .config import ReconstructConfig
from .model import PixelConditionedGAN, Reconstructor

FORMAT = "polaraug-reconstructor/1"


def save_checkpoint(model: PixelConditionedGAN, path: str | os.PathLike, step: int, seed: int,
                    camera: dict | None = None) -> Path:
    """``camera``: the polarimetric camera as a dict (Camera.to_dict), kept for apply and validate."""
    a = model.g.a  # the camera matrix of 4-channel models, with or without projection
    state = {"format": FORMAT, "config": model.cfg.to_dict(), "step": step, "seed": seed, "camera": camera or {},
             "calibration": a.detach().cpu() if a is not None else torch.empty(0),
             "g": model.g.state_dict(), "d": model.d.state_dict(),
             "opt_g": model.opt_g.state_dict(), "opt_d": model.opt_d.state_dict()}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def load_reconstructor(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[Reconstructor, dict]:
    """The reconstructor of a checkpoint (generator only, eval mode, on ``device``) and the raw dict."""
    state = load_state(path, FORMAT, "reconstruction")
    cfg = ReconstructConfig.from_dict(state["config"], f"{path} (config)")
    model = Reconstructor(cfg, state["calibration"] if state["calibration"].numel() else None)
    model.g.load_state_dict(state["g"])
    return model.to(device).eval(), state


def load_checkpoint(path: str | os.PathLike, resume: bool = False,
                    device: str | torch.device = "cpu") -> tuple[PixelConditionedGAN, dict]:
    """The model of a checkpoint (and its raw state); ``resume`` restores the optimizers too."""
    state = load_state(path, FORMAT, "reconstruction")
    cfg = ReconstructConfig.from_dict(state["config"], f"{path} (config)")
    a = state["calibration"] if state["calibration"].numel() else None
    model = PixelConditionedGAN(cfg, a, seed=state["seed"])
    model.g.load_state_dict(state["g"])
    model.d.load_state_dict(state["d"])
    model.to(device)
    if resume:
        model.opt_g.load_state_dict(state["opt_g"])
        model.opt_d.load_state_dict(state["opt_d"])
    return model, state
