"""``polaraug train``: fit the translator, the constrained CycleGAN on unpaired RGB and polarimetric folders
or the paired objective on RGB/polarimetric twins (``--paired``), optionally from a pretrained generator
(``--init``) and with a paired anchor (``--anchor``).

Run folder: ``checkpoints/last.pt`` (every ``checkpoint_every`` steps and at the end), ``log.csv`` (loss
terms, learning rate, it/s), ``physics.csv`` (per epoch: inadmissible fraction, calibration residual
and DoLP histogram of generated images), ``samples/step_*.png`` (the first training frame at its own
resolution: RGB | I0 | I45 | I90 | I135 | DoLP | AoLP), ``tensorboard/`` (the same scalars and samples).
A rerun with the same folder resumes exactly where the last checkpoint left off. Under ``torchrun`` every
rank trains on its own batches with averaged gradients; rank 0 writes.

The loop itself is :class:`polaraug.engine.TrainLoop`; this module brings the objective's step and its
hooks (learning-rate schedule, samples, physics statistics, checkpoints).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from polaraug.cameras import Camera
from polaraug.engine import (
    DistContext,
    ResumableCsv,
    Schedule,
    StepInfo,
    TrainLoop,
    TrainResult,
    open_tensorboard,
    pick_device,
)
from polaraug.engine.distributed import gather_objects, setup_distributed
from polaraug.errors import ConfigError, InputError
from polaraug.io.atomic import link_or_copy, write_text
from polaraug.io.images import write_image
from polaraug.physics import analyze, calibration_residual
from polaraug.viz import aolp_dolp_rgb, gray_rgb

from .checkpoint import OBJECTIVES, TrainState, init_generator, load_checkpoint, save_checkpoint
from .config import TranslatorConfig
from .cyclegan import ConstrainedCycleGAN
from .data import PairedCrops, UnpairedCrops
from .infer import rgb_to_tensor, translate_batch
from .rendered import RenderedPairs, RenderSpec

DOLP_BINS = np.linspace(0, 1, 11)

__all__ = ["TrainResult", "TrainingInputs", "lr_factor", "resolve_config", "train", "train_from_folders"]


def lr_factor(step: int, steps_per_epoch: int, cfg: TranslatorConfig) -> float:
    """Constant for ``epochs``, then linear decay to 0 over ``decay_epochs`` (CycleGAN's 'linear' policy)."""
    epoch = step // steps_per_epoch
    return 1.0 - max(0, epoch + 1 - cfg.epochs) / float(cfg.decay_epochs + 1)


def sample_grid(rgb: torch.Tensor, fake: torch.Tensor, a: np.ndarray) -> np.ndarray:
    """Args: rgb (B, 3, H, W), fake (B, 4, H, W) in [-1, 1]; a (4, 3).

    Returns: (H, 7W, 3) uint8: RGB | I0 | I45 | I90 | I135 | DoLP | AoLP (hue) of the first sample.
    """
    x = ((rgb[0].float().cpu().permute(1, 2, 0).numpy() + 1) / 2).clip(0, 1)
    y = ((fake[0].float().cpu().permute(1, 2, 0).numpy() + 1) / 2).astype(np.float32)
    m = analyze(y, a)
    tiles = [np.round(x * 255).astype(np.uint8)] + [gray_rgb(y[..., i]) for i in range(4)]
    tiles += [gray_rgb(m.dolp), aolp_dolp_rgb(m.aolp, np.clip(m.dolp, 0, 1))]
    return np.concatenate(tiles, axis=1)


def physics_stats(fake: torch.Tensor, a: np.ndarray) -> dict[str, float]:
    """Inadmissible fraction, residual RMS and DoLP histogram of generated images (B, 4, H, W) in [-1, 1]."""
    y = ((fake.float().cpu().permute(0, 2, 3, 1).numpy() + 1) / 2).astype(np.float32)
    m = analyze(y, a)
    hist, _ = np.histogram(np.clip(m.dolp, 0, 1), bins=DOLP_BINS)
    r = calibration_residual(y, a)
    return {"inadmissible_fraction": m.inadmissible_fraction, "residual_rms": float(np.sqrt(np.mean(r**2))),
            **{f"dolp_{DOLP_BINS[i]:.1f}": float(h) / max(hist.sum(), 1) for i, h in enumerate(hist)}}


def _start_or_resume(run: Path, cfg: TranslatorConfig, camera: Camera, *, objective: str, seed: int,
                     ctx: DistContext, init: Path | None, render: dict | None = None) -> tuple[TrainState, int]:
    """The model to train and the steps already done (a new run writes ``config.json``, with the ``render``
    settings of a run on fresh renders, which a resume must repeat)."""
    ckpt = run / "checkpoints" / "last.pt"
    if ckpt.exists():
        saved = run / "config.json"
        before = json.loads(saved.read_text()).get("render") if saved.is_file() else None
        if before != render:
            raise InputError(f"{ckpt}: this run trained on {_inputs(before)}, not {_inputs(render)}; "
                             "resume with the same inputs or use a new run folder")
        model, state = load_checkpoint(ckpt, cfg, resume=True, device=ctx.device, rank=ctx.rank)
        if int(state.get("seed", seed)) != seed:
            raise InputError(f"{ckpt}: this run was started with seed {state.get('seed')}, not {seed}; "
                             "resume with the same seed or use a new run folder")
        if model.objective != objective:
            raise InputError(f"{ckpt}: this run trains the {model.objective} objective, not {objective}; "
                             "use a new run folder")
        return model, int(state["step"])
    model = OBJECTIVES[objective](cfg, camera.matrix(), seed=seed)
    if init is not None:
        init_generator(model, init)
    if ctx.main:
        write_text(run / "config.json", json.dumps({
            "config": cfg.to_dict(), "camera": camera.to_dict(), "seed": seed, "world_size": ctx.world,
            "objective": objective, "init": str(init) if init else None, "render": render}, indent=2))
    return model, 0


def _inputs(render: dict | None) -> str:
    return f"renders {render}" if render else "folders"


class _Hooks:
    """The translator's step and callbacks: learning rate, samples, physics statistics, checkpoints."""

    def __init__(self, model: TrainState, data: UnpairedCrops | PairedCrops | RenderedPairs, run: Path, *,
                 cfg: TranslatorConfig,
                 camera: Camera, seed: int, ctx: DistContext, start: int, anchor: PairedCrops | None,
                 keep: bool = False):
        self.model, self.data, self.run, self.cfg, self.camera, self.seed, self.ctx = (
            model, data, run, cfg, camera, seed, ctx)
        self.anchor, self.keep = anchor, keep
        self.a = camera.matrix()
        self.physics = ResumableCsv(run / "physics.csv", start) if ctx.main else None
        self.tb = open_tensorboard(run / "tensorboard", start) if ctx.main else None
        self.last_rgb: torch.Tensor | None = None
        self.full_frame: torch.Tensor | None = None
        self.fake: tuple[int, torch.Tensor] | None = None  # (step, translation of last_rgb)

    def lr(self, step: int) -> float:
        return self.cfg.lr * lr_factor(step, self.data.steps_per_epoch, self.cfg)

    def set_lr(self, step: int) -> None:
        for opt in (self.model.opt_g, self.model.opt_d):
            for group in opt.param_groups:
                group["lr"] = self.lr(step)

    def step(self, step: int) -> dict[str, float]:
        fmt = torch.channels_last if self.ctx.device.type == "cuda" else torch.contiguous_format
        rgb, polar, *context = (t.to(self.ctx.device, memory_format=fmt) if t.ndim == 4 else t.to(self.ctx.device)
                                for t in self.data.batch_at(step))
        self.last_rgb = rgb
        if context:  # the crops' whole-frame context (paired objective)
            return self.model.training_step(rgb, polar, context=tuple(context))
        if self.anchor is None:
            return self.model.training_step(rgb, polar)
        pairs = tuple(t.to(self.ctx.device, memory_format=fmt) for t in self.anchor.batch_at(step))
        return self.model.training_step(rgb, polar, anchor=pairs)

    def _fake(self, step: int) -> torch.Tensor:
        if self.fake is None or self.fake[0] != step:
            self.fake = (step, self.model.translate(self.last_rgb))
        return self.fake[1]

    def sample(self, info: StepInfo) -> None:
        """A sample grid of the first training frame at its own resolution (not a crop)."""
        if self.full_frame is None:
            self.full_frame = rgb_to_tensor(self.data.sample_rgb()).to(self.ctx.device)
        fake = translate_batch(self.model.translator, self.full_frame) * 2 - 1
        grid = sample_grid(self.full_frame, fake, self.a)
        write_image(self.run / "samples" / f"step_{info.step:07d}.png", grid)
        if self.tb is not None:
            self.tb.add_image("samples", grid, info.step, dataformats="HWC")

    def epoch_end(self, info: StepInfo) -> None:
        stats = physics_stats(self._fake(info.step), self.a)
        self.physics.write({"step": info.step, "epoch": info.epoch, **stats})
        if self.tb is not None:
            self.tb.add_scalar("physics/inadmissible_fraction", stats["inadmissible_fraction"], info.step)
            self.tb.add_scalar("physics/residual_rms", stats["residual_rms"], info.step)

    def checkpoint(self, info: StepInfo) -> None:
        pools = None
        if isinstance(self.model, ConstrainedCycleGAN):  # every rank's image history (a collective)
            pools = gather_objects({"a": self.model.pool_a.state_dict(), "b": self.model.pool_b.state_dict()},
                                   self.ctx)
        if self.ctx.main:
            last = save_checkpoint(self.model, self.run / "checkpoints" / "last.pt", step=info.step,
                                   epoch=info.epoch, camera_name=self.camera.name, pools=pools, seed=self.seed)
            if self.keep and info.step:  # a learning curve's points (last.pt is replaced by a rename later)
                link_or_copy(last, last.with_name(f"step_{info.step:07d}.pt"))


def train(data: UnpairedCrops | PairedCrops | RenderedPairs, run_dir: str | Path, cfg: TranslatorConfig, camera: Camera,
          seed: int = 0, *, anchor: PairedCrops | None = None, init: str | Path | None = None,
          max_steps: int | None = None, max_minutes: float | None = None, device: str | None = None,
          checkpoint_every: int = 1000, sample_every: int = 500, log_every: int = 10,
          keep_checkpoints: bool = False, progress: bool = True) -> TrainResult:
    """Train (or resume) the translator in ``run_dir``.

    The objective follows the data: unpaired crops train the constrained CycleGAN, paired crops the
    paired objective (:mod:`polaraug.translate.paired`).

    Args:
        data: unpaired RGB and polarimetric crops, or paired ones (from folders or fresh renders).
        anchor: rendered pairs for the paired anchor loss of unpaired training (weight ``lambda_anchor``).
        init: a translator checkpoint whose generator starts this run (a new run only).
        run_dir: the run folder (see the module docstring); an existing checkpoint there is resumed.
        cfg: architecture, mode and optimizer settings.
        camera: the polarimetric camera (its matrix A constrains the outputs).
        seed: initialisation and sampling seed (a resume must use the run's own).
        max_steps: stop after this many steps (default: the config's epochs).
        max_minutes: also stop after this many minutes of training in this process (a CPU budget).
        device: torch device name (default: CUDA when present).
        checkpoint_every, sample_every, log_every: event periods in steps.
        keep_checkpoints: keep every checkpoint as ``checkpoints/step_NNNNNNN.pt`` besides ``last.pt``.
        progress: show a progress bar.

    Returns:
        The steps done and the paths of the checkpoint and the log.
    """
    run = Path(run_dir)
    ctx = setup_distributed(pick_device(device))
    for sampler in (data, anchor) if anchor is not None else (data,):
        sampler.rank = ctx.rank
    objective = "paired" if isinstance(data, (PairedCrops, RenderedPairs)) else "cyclegan"
    if cfg.context and objective != "paired":
        raise ConfigError("the whole-frame context ('context' > 0) needs paired training (--paired or --render)")
    if anchor is not None and (objective != "cyclegan" or cfg.lambda_anchor <= 0):
        raise InputError("a paired anchor needs unpaired training and lambda_anchor > 0")
    model, start = _start_or_resume(run, cfg, camera, objective=objective, seed=seed, ctx=ctx,
                                    init=Path(init) if init else None,
                                    render=data.spec.to_dict() if isinstance(data, RenderedPairs) else None)
    _place(model, ctx.device)
    spe = data.steps_per_epoch
    total = max_steps if max_steps is not None else (cfg.epochs + cfg.decay_epochs) * spe
    hooks = _Hooks(model, data, run, cfg=cfg, camera=camera, seed=seed, ctx=ctx, start=start, anchor=anchor,
                   keep=keep_checkpoints)
    schedule = Schedule(total=total, max_seconds=None if max_minutes is None else 60 * max_minutes,
                        steps_per_epoch=spe, log_every=log_every, sample_every=sample_every,
                        checkpoint_every=checkpoint_every)
    loop = TrainLoop(hooks.step, schedule, start=start, ctx=ctx, run_dir=run,
                     checkpoint=run / "checkpoints" / "last.pt", tensorboard=hooks.tb, sync_model=model,
                     progress=progress, log_fields=lambda info: {"epoch": info.epoch, "lr": hooks.lr(info.step - 1)})
    loop.add_callback("on_step_start", hooks.set_lr)
    loop.add_callback("on_sample", hooks.sample)
    loop.add_callback("on_epoch_end", hooks.epoch_end)
    loop.add_callback("on_checkpoint", hooks.checkpoint)
    try:
        return loop.run()
    finally:
        if isinstance(data, RenderedPairs):
            data.close()


def _place(model: TrainState, device: torch.device) -> None:
    """The model on ``device``; on CUDA with bf16 forward passes and channels-last memory."""
    model.to(device)
    model.amp = device.type == "cuda"
    if device.type == "cuda":
        model.to(memory_format=torch.channels_last)


@dataclass(frozen=True, kw_only=True)
class TrainingInputs:
    """The inputs of a training run: ``rgb`` + ``polar`` folders (unpaired), a ``paired`` folder or
    fresh renders (``render``), and the optional ``anchor`` pairs, ``init`` checkpoint and explicit ``calibration``."""

    rgb: Path | None = None
    polar: Path | None = None
    paired: Path | None = None
    render: RenderSpec | None = None
    anchor: Path | None = None
    init: Path | None = None
    calibration: str | None = None

    def check(self) -> None:
        """Raise InputError unless exactly one of unpaired (--rgb and --polar), --paired and --render is given."""
        unpaired = self.rgb is not None or self.polar is not None
        if unpaired + (self.paired is not None) + (self.render is not None) != 1:
            raise InputError("give one of --rgb and --polar (unpaired), --paired DIR (paired training on a "
                             "folder) or --render (paired training on fresh renders)")
        if self.render is not None and self.calibration is not None:
            raise InputError("--render trains in the ideal camera's units (the Stokes head serves any camera); "
                             "drop --calibration")
        if unpaired and (self.rgb is None or self.polar is None):
            raise InputError("unpaired training needs both --rgb and --polar")
        if self.anchor is not None and (self.paired is not None or self.render is not None):
            raise InputError("--anchor is for unpaired training; --paired and --render already train on pairs")


def resolve_config(*, config: str | Path | None, preset: str, overrides: dict) -> TranslatorConfig:
    """The run's settings: a YAML file, else a preset, with the non-None ``overrides`` applied."""
    import dataclasses

    from .config import PRESETS, config_from_dict, load_config

    if config is None and preset not in PRESETS:
        raise ConfigError(f"--preset must be one of {sorted(PRESETS)}")
    cfg = load_config(config) if config else config_from_dict({"preset": preset})  # a config names its own
    return dataclasses.replace(cfg, **{k: v for k, v in overrides.items() if v is not None})


# settings a resumed run takes from its own config.json when not given again (the checkpoint check refuses
# a run that changes the adversarial loss or the discriminator)
RESUMED_KEYS = ("gan_loss", "n_critic", "lambda_gp", "d_scales", "lambda_fm", "d_view", "upsample", "downsample",
                "context", "skips", "ema", "crop")


def train_from_folders(inputs: TrainingInputs, out: str | Path, *, config: str | Path | None = None,
                       preset: str = "reference", overrides: dict | None = None, seed: int = 0,
                       **train_options) -> TrainResult:
    """``polaraug train``: read the folders, resolve settings and camera, and :func:`train`.

    Args:
        inputs: the run's folders.
        out: the run folder.
        config, preset, overrides: see :func:`resolve_config`.
        seed: the run's seed.
        train_options: passed to :func:`train` (max_steps, device, checkpoint_every, sample_every, ...).

    Returns:
        As :func:`train`.
    """
    from polaraug.data.camera_choice import resolve_camera

    inputs.check()
    overrides = dict(overrides or {})
    saved = Path(out) / "config.json"
    if saved.is_file():  # a resumed run keeps its head and adversarial settings unless told otherwise
        old = json.loads(saved.read_text())["config"]
        for key, before in (("head", "intensities"), *((k, None) for k in RESUMED_KEYS)):
            if overrides.get(key) is None and old.get(key, before) is not None:
                overrides[key] = old.get(key, before)
    cfg = resolve_config(config=config, preset=preset, overrides=overrides)
    if inputs.render is not None:
        data = RenderedPairs(inputs.render, cfg.crop, cfg.batch, seed, context=cfg.context)
        camera = data.camera
    elif inputs.paired is not None:
        camera = resolve_camera(inputs.calibration, inputs.paired / "polar", default=None)
        data = PairedCrops.from_folder(inputs.paired, camera, crop=cfg.crop, batch=cfg.batch, seed=seed,
                                       context=cfg.context)
    else:
        camera = resolve_camera(inputs.calibration, inputs.polar, default=None)
        data = UnpairedCrops.from_folders(inputs.rgb, inputs.polar, camera, crop=cfg.crop, batch=cfg.batch, seed=seed)
    anchor = None
    if inputs.anchor is not None:  # rendered pairs in their own camera's units, then y = A s in this run's
        anchor_cam = resolve_camera(None, inputs.anchor / "polar", default=None)
        anchor = PairedCrops.from_folder(inputs.anchor, anchor_cam, crop=cfg.crop, batch=cfg.batch, seed=seed,
                                         to_camera=camera)
    return train(data, out, cfg, camera, seed, anchor=anchor, init=inputs.init, **train_options)
