"""Reconstruction checkpoints: plain tensors and numbers (``torch.load(weights_only=True)``), carrying the
config and calibration so ``apply`` needs nothing else; optimizer states make resuming exact."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from polaraug.io.atomic import atomic_path
from polaraug.translate.checkpoint import CheckpointError

from .config import ReconstructConfig
from .model import PixelConditionedGAN

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


def load_checkpoint(path: str | os.PathLike, resume: bool = False,
                    device: str | torch.device = "cpu") -> tuple[PixelConditionedGAN, dict]:
    """The model of a checkpoint (and its raw state); ``resume`` restores the optimizers too."""
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except Exception as e:  # noqa: BLE001 - torch raises many kinds for foreign or corrupt files
        raise CheckpointError(f"{path}: not a readable polaraug checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a polaraug reconstruction checkpoint (format {FORMAT!r} expected)")
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
