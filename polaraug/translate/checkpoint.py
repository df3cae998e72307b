"""Translator checkpoints: plain tensors and numbers only, so ``torch.load(weights_only=True)`` reads
them (no pickled code). A checkpoint carries its architecture, constraint mode and calibration matrix,
so ``translate`` needs nothing else; optimizer, pool and RNG states make resuming exact."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from polaraug.io.atomic import atomic_path
from polaraug.io.checkpoints import CheckpointError, load_state

from .config import TranslatorConfig, config_from_dict
from .model import ConstrainedCycleGAN

FORMAT = "polaraug-translator/1"
NETS = ("g_ab", "g_ba", "d_a", "d_b")


def save_checkpoint(model: ConstrainedCycleGAN, path: str | os.PathLike, step: int, epoch: int,
                    camera_name: str = "", pools: list[dict] | None = None, seed: int = 0) -> Path:
    """Write a checkpoint atomically. ``pools``: every rank's (pool_a, pool_b) states under torchrun
    (default: this process's), so that each rank resumes with its own image history."""
    state = {
        "format": FORMAT,
        "config": model.cfg.to_dict(),
        "calibration": model.a.detach().cpu(),
        "camera": camera_name,
        "step": step,
        "epoch": epoch,
        "nets": {n: getattr(model, n).state_dict() for n in NETS},
        "opt_g": model.opt_g.state_dict(),
        "opt_d": model.opt_d.state_dict(),
        "pools": pools if pools is not None else [{"a": model.pool_a.state_dict(), "b": model.pool_b.state_dict()}],
        "rng_torch": torch.get_rng_state(),
        "seed": seed,
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def read_checkpoint(path: str | os.PathLike) -> dict:
    """The raw checkpoint dict, loaded safely; errors name the file."""
    return load_state(path, FORMAT, "translator")


def load_checkpoint(path: str | os.PathLike, cfg: TranslatorConfig | None = None, resume: bool = False,
                    device: str | torch.device = "cpu", rank: int = 0) -> tuple[ConstrainedCycleGAN, dict]:
    """Rebuild the model of a checkpoint on ``device``. With ``cfg``, its architecture and mode must match
    (clear error if not); ``resume`` also restores optimizers, this ``rank``'s pools and the RNG for an
    exact continuation (exact on the CPU; cuDNN kernels are not bit-deterministic)."""
    state = read_checkpoint(path)
    saved = config_from_dict(state["config"], f"{path} (config)")
    if cfg is not None and cfg.architecture() != saved.architecture():
        raise CheckpointError(f"{path}: trained with architecture {saved.architecture()}, but this run "
                              f"uses {cfg.architecture()}")
    if cfg is not None and cfg.mode != saved.mode:
        raise CheckpointError(f"{path}: trained in constraint mode {saved.mode!r}, this run asks for {cfg.mode!r}")
    model = ConstrainedCycleGAN(cfg or saved, state["calibration"])
    for n in NETS:
        getattr(model, n).load_state_dict(state["nets"][n])
    model.to(device)  # before the optimizer state, whose tensors follow their parameters' device
    if resume:
        model.opt_g.load_state_dict(state["opt_g"])
        model.opt_d.load_state_dict(state["opt_d"])
        pools = state["pools"]
        if rank >= len(pools):
            raise CheckpointError(f"{path}: saved by {len(pools)} process(es); cannot resume rank {rank} exactly")
        model.pool_a.load_state_dict(pools[rank]["a"], device)
        model.pool_b.load_state_dict(pools[rank]["b"], device)
        torch.set_rng_state(state["rng_torch"])
    return model, state
