"""Translator checkpoints: plain tensors and numbers only, so ``torch.load(weights_only=True)`` reads
them (no pickled code). A checkpoint carries its architecture, constraint mode and calibration matrix,
so ``translate`` needs nothing else; optimizer, pool and RNG states make resuming exact.

Inference loads only the translator (:func:`load_translator`); training resumes the whole objective
(:func:`load_checkpoint`).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from polaraug.io.atomic import atomic_path
from polaraug.io.checkpoints import CheckpointError, load_state

from .builtin import resolve_checkpoint
from .config import TranslatorConfig, config_from_dict
from .cyclegan import ConstrainedCycleGAN
from .model import Translator
from .paired import PairedTranslator

OBJECTIVES = {"cyclegan": ConstrainedCycleGAN, "paired": PairedTranslator}
TrainState = ConstrainedCycleGAN | PairedTranslator  # every TranslatorObjective
# Buffers of the generator that belong to the camera, not to what the network learned (--init keeps the
# new run's camera).
CAMERA_BUFFERS = ("a", "luma")

FORMAT = "polaraug-translator/1"

__all__ = ["FORMAT", "OBJECTIVES", "CheckpointError", "init_generator", "load_checkpoint", "load_translator",
           "read_checkpoint", "save_checkpoint"]


def save_checkpoint(model: TrainState, path: str | os.PathLike, step: int, epoch: int,
                    camera_name: str = "", pools: list[dict] | None = None, seed: int = 0) -> Path:
    """Write a checkpoint atomically.

    Args:
        model: the training state to save (any objective).
        path: destination (written through a temporary file, then renamed).
        step, epoch: progress, for resuming.
        camera_name: the polarimetric camera's name, kept for the manifest of translated sets.
        pools: every rank's (pool_a, pool_b) states under torchrun (default: this process's), so that
            each rank resumes with its own image history.
        seed: the run's seed (a resume with another seed is refused).

    Returns:
        ``path``.
    """
    state = {
        "format": FORMAT,
        "config": model.cfg.to_dict(),
        "calibration": model.a.detach().cpu(),
        "camera": camera_name,
        "objective": model.objective,
        "step": step,
        "epoch": epoch,
        "nets": {n: getattr(model, n).state_dict() for n in model.nets},
        **{k: opt.state_dict() for k, opt in model.optimizers.items()},
        "rng_torch": torch.get_rng_state(),
        "seed": seed,
    }
    if isinstance(model, ConstrainedCycleGAN):
        state["pools"] = pools if pools is not None else [{"a": model.pool_a.state_dict(),
                                                           "b": model.pool_b.state_dict()}]
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def read_checkpoint(path: str | os.PathLike) -> dict:
    """The raw checkpoint dict, loaded safely; errors name the file. ``default`` is the built-in translator."""
    return load_state(resolve_checkpoint(path), FORMAT, "translator")


def saved_config(state: dict, path) -> TranslatorConfig:
    """The config a checkpoint was trained with (checkpoints from before the Stokes head have no ``head``:
    theirs is the intensities head)."""
    return config_from_dict({"head": "intensities", **state["config"]}, f"{path} (config)")


def _config(state: dict, path, cfg: TranslatorConfig | None) -> TranslatorConfig:
    """The checkpoint's config, checked against ``cfg`` (architecture and mode) when given."""
    saved = saved_config(state, path)
    if cfg is not None and cfg.architecture() != saved.architecture():
        raise CheckpointError(f"{path}: trained with architecture {saved.architecture()}, but this run "
                              f"uses {cfg.architecture()}")
    if cfg is not None and cfg.mode != saved.mode:
        raise CheckpointError(f"{path}: trained in constraint mode {saved.mode!r}, this run asks for {cfg.mode!r}")
    for key in ("gan_loss", "n_critic"):  # a resumed critic must keep its loss and schedule
        if cfg is not None and getattr(cfg, key) != getattr(saved, key):
            raise CheckpointError(f"{path}: trained with {key} {getattr(saved, key)!r}, this run asks for "
                                  f"{getattr(cfg, key)!r}")
    return cfg or saved


def generator_weights(state: dict, average: bool = True) -> dict[str, torch.Tensor]:
    """The RGB -> polarimetric generator's state dict in a raw checkpoint dict.

    Args:
        state: a checkpoint dict (:func:`read_checkpoint`).
        average: the weight average when the run kept one (config ``ema`` > 0), else the trained weights.
    """
    nets = state["nets"]
    if average and "g_ema" in nets:  # AveragedModel's keys: 'module.' + the generator's, and n_averaged
        return {k.removeprefix("module."): v for k, v in nets["g_ema"].items() if k != "n_averaged"}
    return nets["g_ab"]


def load_translator(path: str | os.PathLike, device: str | torch.device = "cpu",
                    average: bool = True) -> tuple[Translator, dict]:
    """The translator of a checkpoint, in eval mode on ``device``, and the raw checkpoint dict.

    Only the RGB -> polarimetric generator is built: no discriminators, optimizers or pools. ``average``:
    the generator's weight average when the run kept one (config ``ema``), else its trained weights.
    """
    state = read_checkpoint(path)
    translator = Translator(_config(state, path, None), state["calibration"])
    try:
        translator.g.load_state_dict(generator_weights(state, average))
    except RuntimeError as e:  # load_state_dict's missing/unexpected keys or shapes: a damaged file
        raise CheckpointError(f"{path}: generator weights do not fit its config: {str(e).splitlines()[0]}") from None
    return translator.to(device).eval(), state


def load_checkpoint(path: str | os.PathLike, cfg: TranslatorConfig | None = None, resume: bool = False,
                    device: str | torch.device = "cpu", rank: int = 0) -> tuple[TrainState, dict]:
    """Rebuild the training state of a checkpoint on ``device``.

    Args:
        path: the checkpoint.
        cfg: when given, its architecture and mode must match the checkpoint's (clear error if not).
        resume: also restore optimizers, this ``rank``'s pools and the RNG for an exact continuation
            (exact on the CPU; cuDNN kernels are not bit-deterministic).
        device: where the networks go.
        rank: this process's rank under torchrun.

    Returns:
        (the training state of the checkpoint's objective, the raw checkpoint dict).
    """
    state = read_checkpoint(path)
    objective = state.get("objective", "cyclegan")
    if objective not in OBJECTIVES:
        raise CheckpointError(f"{path}: unknown training objective {objective!r}")
    model = OBJECTIVES[objective](_config(state, path, cfg), state["calibration"])
    for n in model.nets:
        if n not in state["nets"]:
            raise CheckpointError(f"{path}: has no {n!r} network, which this run's settings need "
                                  "(a weight average, 'ema', is set when a run starts)")
        getattr(model, n).load_state_dict(state["nets"][n])
    model.to(device)  # before the optimizer state, whose tensors follow their parameters' device
    if resume:
        for k, opt in model.optimizers.items():
            opt.load_state_dict(state[k])
        torch.set_rng_state(state["rng_torch"])
    if resume and isinstance(model, ConstrainedCycleGAN):
        pools = state["pools"]
        if rank >= len(pools):
            raise CheckpointError(f"{path}: saved by {len(pools)} process(es); cannot resume rank {rank} exactly")
        model.pool_a.load_state_dict(pools[rank]["a"], device)
        model.pool_b.load_state_dict(pools[rank]["b"], device)
    return model, state


def init_generator(model: TrainState, path: str | os.PathLike) -> dict:
    """Start ``model``'s translator from the generator of another checkpoint (``polaraug train --init``).

    The learned weights are copied; the camera stays the new run's. A Stokes-head generator predicts Stokes
    vectors, so its weights carry over to another camera matrix exactly; an intensities-head generator
    predicts its old camera's intensities, which the new run's training then has to unlearn.

    Args:
        model: a new training state (any objective).
        path: a translator checkpoint (typically a paired pretraining run).

    Returns:
        The raw checkpoint dict of ``path``.

    Raises:
        CheckpointError: unreadable, or a generator of another architecture or head.
    """
    state = read_checkpoint(path)
    saved = saved_config(state, path)
    mine, theirs = model.cfg.generator_architecture(), saved.generator_architecture()
    if mine != theirs:
        raise CheckpointError(f"{path}: --init needs a generator like this run's {mine}, the checkpoint has {theirs}")
    # The network inside any wrapper (projection, Stokes head): wrappers hold only camera buffers.
    learned = {k.removeprefix("net."): v for k, v in generator_weights(state).items()
               if k.split(".")[-1] not in CAMERA_BUFFERS}
    target = getattr(model.g_ab, "net", model.g_ab)
    try:
        target.load_state_dict(learned)
    except RuntimeError as e:
        raise CheckpointError(f"{path}: --init generator does not fit this run's: {str(e).splitlines()[0]}") from None
    return state
