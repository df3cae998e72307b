"""``polaraug train``: fit the translator (constrained CycleGAN, or paired)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ._errors import user_errors

_Out = Annotated[Path, typer.Option("--out", "-o", help="Run folder; rerunning resumes from its checkpoint.")]
_Rgb = Annotated[Path | None, typer.Option(help="Folder of RGB images (BDD100K, KITTI or plain); unpaired "
                                                "training with --polar.")]
_Polar = Annotated[Path | None, typer.Option(help="Polarimetric set (polaraug layout, per-angle, 4-channel, "
                                                  "DoFP); unpaired training with --rgb.")]
_Paired = Annotated[Path | None, typer.Option(help="Paired training (pix2pix + polarization terms) on DIR/rgb "
                                                   "and DIR/polar twins, e.g. 'polaraug synth --mode paired' "
                                                   "output; instead of --rgb/--polar.")]
_Render = Annotated[bool, typer.Option("--render/--no-render", help="Paired training on fresh renders made "
                                       "while it trains (no folder; data that does not run out).")]
_RenderSize = Annotated[str, typer.Option(help="--render: WIDTHxHEIGHT of the renders.")]
_RenderCache = Annotated[int, typer.Option(help="--render: frames held in memory.")]
_RenderEvery = Annotated[int, typer.Option(help="--render: steps between two new frames (0: a fixed set "
                                                "of --render-cache frames).")]
_RenderDomains = Annotated[str, typer.Option(help="--render: rendering domains (default, shifted, wide, "
                                                  "randomised), taken in turn.")]
_RenderSeed = Annotated[int, typer.Option(help="--render: the renders' seed.")]
_Init = Annotated[Path | None, typer.Option(help="Start from this translator checkpoint's generator (e.g. a "
                                                 "paired pretraining run, or 'default': the built-in one); same "
                                                 "architecture and head.")]
_Anchor = Annotated[Path | None, typer.Option(help="Paired folder for the anchor loss during unpaired training "
                                                   "(weight: config key lambda_anchor, or --anchor-weight).")]
_AnchorWeight = Annotated[float | None, typer.Option(help="lambda_anchor (default: the config's).")]
_Config = Annotated[Path | None, typer.Option(help="YAML with settings (optionally 'preset: cpu-small').")]
_Preset = Annotated[str, typer.Option(help="reference, cpu-small, cpu-medium or cpu-context (when no "
                                           "--config).")]
_Mode = Annotated[str | None, typer.Option(help="Constraint mode: none, relax, project, proximal.")]
_Head = Annotated[str | None, typer.Option(help="Generator head: intensities or stokes (default: the "
                                                "config's).")]
_GanLoss = Annotated[str | None, typer.Option(help="Adversarial loss: lsgan, vanilla or wgan-gp (default: the "
                                                   "config's, lsgan).")]
_NCritic = Annotated[int | None, typer.Option(help="Discriminator steps per generator step (wgan-gp: 5 is "
                                                   "usual; default: the config's, 1).")]
_DScales = Annotated[int | None, typer.Option(help="Discriminator scales (pix2pixHD multi-scale D; default: "
                                                   "the config's, 1).")]
_FeatureMatching = Annotated[float | None, typer.Option(help="Weight of pix2pixHD's discriminator feature "
                                                             "matching (paired training only; default: the "
                                                             "config's, 0).")]
_DolpWeight = Annotated[float | None, typer.Option(help="Weight of an L1 on the DoLP, which weighs dark and bright "
                                                         "pixels alike (lambda_dolp; paired training only; default: "
                                                         "the config's, 0).")]
_Context = Annotated[int | None, typer.Option(help="Whole-frame context canvas side (0: off; default: the "
                                                   "config's). Paired training only.")]
_Upsample = Annotated[str | None, typer.Option(help="Generator upsampling: transpose or resize (default: the "
                                                    "config's).")]
_Downsample = Annotated[str | None, typer.Option(help="Generator downsampling: stride or blur (anti-aliased; "
                                                        "default: the config's).")]
_Skips = Annotated[int | None, typer.Option(help="Encoder resolutions added to the decoder's, U-Net-like (0: none, "
                                                 "1: full, 2: full and half; default: the config's).")]
_Crop = Annotated[int | None, typer.Option(help="Side of the square training crops in px (a multiple of 4; "
                                                "default: the config's). Larger crops put more of the frame in "
                                                "the generator's view: 128 px crops of 192x144 renders learn "
                                                "the sky and the DoLP far better than 64 px ones.")]
_Ema = Annotated[float | None, typer.Option(help="Decay of a moving average of the generator's weights, kept "
                                                "in checkpoints and used to translate (e.g. 0.999; 0: off; "
                                                "default: the config's).")]
_Calibration = Annotated[str | None, typer.Option(help="Camera file; default: the polarimetric set's.")]
_Steps = Annotated[int | None, typer.Option(help="Stop after this many steps (default: the config's epochs).")]
_Minutes = Annotated[float | None, typer.Option(help="Also stop after this many minutes of training (a CPU "
                                                     "budget; a rerun resumes and trains that long again).")]
_Seed = Annotated[int, typer.Option(help="Seed for initialisation and sampling.")]
_Candidates = Annotated[str | None, typer.Option(help="--render: comma-separated seeds (e.g. 0,1,4) each trained "
                                                      "--select-at steps on its own renders; the one with the "
                                                      "lowest AoLP error on held-out renders of the training "
                                                      "domains is continued to --steps.")]
_SelectAt = Annotated[int | None, typer.Option(help="--candidates: steps before the choice (default: a quarter "
                                                    "of --steps).")]
_SelectSeed = Annotated[int, typer.Option(help="--candidates: the validation renders' seed (no candidate and "
                                               "none of your test renders should use it).")]
_SelectFrames = Annotated[int, typer.Option(help="--candidates: validation frames, split over the training "
                                                 "domains.")]
_Device = Annotated[str | None, typer.Option(help="cuda, cpu, ... (default: CUDA when present).")]
_CheckpointEvery = Annotated[int, typer.Option(help="Steps between checkpoints.")]
_SampleEvery = Annotated[int, typer.Option(help="Steps between sample grids.")]
_KeepCheckpoints = Annotated[bool, typer.Option(help="Keep every checkpoint (checkpoints/step_N.pt) besides "
                                                     "last.pt, e.g. for a learning curve.")]
_Adapt = Annotated[str, typer.Option(help="With --init, --rgb and --polar: 'cyclegan' trains the whole "
                                          "generator unpaired (it can erase what pretraining learned); 'sensor' "
                                          "keeps it frozen and fits only the real camera's exposure and noise "
                                          "to the real frames' statistics, written as OUT/camera.yaml for "
                                          "translate --calibration.")]


def train(
    out: _Out,
    rgb: _Rgb = None,
    polar: _Polar = None,
    paired: _Paired = None,
    render: _Render = False,
    render_size: _RenderSize = "192x144",
    render_cache: _RenderCache = 800,
    render_every: _RenderEvery = 4,
    render_domains: _RenderDomains = "default,shifted",
    render_seed: _RenderSeed = 0,
    init: _Init = None,
    anchor: _Anchor = None,
    anchor_weight: _AnchorWeight = None,
    config: _Config = None,
    preset: _Preset = "reference",
    mode: _Mode = None,
    head: _Head = None,
    gan_loss: _GanLoss = None,
    n_critic: _NCritic = None,
    d_scales: _DScales = None,
    feature_matching: _FeatureMatching = None,
    dolp_weight: _DolpWeight = None,
    context: _Context = None,
    upsample: _Upsample = None,
    downsample: _Downsample = None,
    skips: _Skips = None,
    crop: _Crop = None,
    ema: _Ema = None,
    calibration: _Calibration = None,
    steps: _Steps = None,
    minutes: _Minutes = None,
    seed: _Seed = 0,
    candidates: _Candidates = None,
    select_at: _SelectAt = None,
    select_seed: _SelectSeed = 3,
    select_frames: _SelectFrames = 48,
    device: _Device = None,
    checkpoint_every: _CheckpointEvery = 1000,
    sample_every: _SampleEvery = 500,
    keep_checkpoints: _KeepCheckpoints = False,
    adapt: _Adapt = "cyclegan",
) -> None:
    """Train RGB -> (I0, I45, I90, I135): unpaired (constrained CycleGAN) or paired, from scratch or --init."""
    from polaraug.translate.train import TrainingInputs

    if _adapted_sensor(adapt, init, rgb, polar, out, seed=seed, device=device):
        return
    with user_errors():
        spec = _render_spec(render_size, render_cache, render_every, render_domains, render_seed) if render else None
        inputs = TrainingInputs(rgb=rgb, polar=polar, paired=paired, render=spec, anchor=anchor, init=init,
                                calibration=calibration)
        overrides = dict(mode=mode, head=head, lambda_anchor=anchor_weight, gan_loss=gan_loss, n_critic=n_critic,
                         d_scales=d_scales, lambda_fm=feature_matching, lambda_dolp=dolp_weight, context=context,
                         upsample=upsample, downsample=downsample, skips=skips, crop=crop, ema=ema)
        options = dict(config=config, preset=preset, overrides=overrides, max_minutes=minutes, device=device,
                       checkpoint_every=checkpoint_every, sample_every=sample_every, keep_checkpoints=keep_checkpoints)
        result = _run(inputs, out, _selection(candidates, select_at, select_seed, select_frames, steps), steps=steps,
                      seed=seed, options=options)
    _report(result)


def _report(result) -> None:
    """Say what was trained and where it is (under torchrun, rank 0 only)."""
    if os.environ.get("RANK", "0") == "0":
        typer.echo(f"trained {result.steps} steps; checkpoint {result.checkpoint}; log {result.log}")


def _run(inputs, out: Path, selection, *, steps: int | None, seed: int, options: dict):
    """One run (``train_from_folders``), or seed selection among candidates when ``selection`` is given."""
    if selection is None:
        from polaraug.translate.train import train_from_folders

        return train_from_folders(inputs, out, seed=seed, max_steps=steps, **options)
    from polaraug.translate.selection import train_with_selection

    return train_with_selection(inputs, out, selection, max_steps=steps, seed=seed, log=typer.echo, **options)


def _selection(candidates: str | None, select_at: int | None, select_seed: int, select_frames: int,
               steps: int | None):
    """``--candidates``' :class:`~polaraug.translate.selection.Selection` (None without it); ``--select-at``
    defaults to a quarter of ``--steps``."""
    if candidates is None:
        return None
    from polaraug.translate.selection import Selection, parse_seeds

    return Selection(parse_seeds(candidates), select_at or max(1, (steps or 0) // 4), select_seed, select_frames)


def _adapted_sensor(adapt: str, init: Path | None, rgb: Path | None, polar: Path | None, out: Path, *, seed: int,
                    device: str | None) -> bool:
    """``--adapt sensor`` done (True), or ``--adapt cyclegan``: nothing done (False); other values refused."""
    with user_errors():
        _check_adapt(adapt)
    if adapt != "sensor":
        return False
    with user_errors():
        _adapt_sensor(init, rgb, polar, out, seed=seed, device=device)
    return True


def _check_adapt(adapt: str) -> None:
    from polaraug.errors import ConfigError

    if adapt not in ("cyclegan", "sensor"):
        raise ConfigError(f"--adapt must be cyclegan or sensor, got {adapt!r}")


def _render_spec(size: str, cache: int, every: int, domains: str, seed: int):
    """``--render``'s settings as a :class:`~polaraug.translate.rendered.RenderSpec` (InputError if bad)."""
    from polaraug.translate.rendered import RenderSpec

    from .synth_cmd import parse_size

    w, h = parse_size(size, "--render-size")
    return RenderSpec(width=w, height=h, cache=cache, refresh=every,
                      domains=tuple(d.strip() for d in domains.split(",") if d.strip()), seed=seed)


def _adapt_sensor(init: Path | None, rgb: Path | None, polar: Path | None, out: Path, *, seed: int,
                  device: str | None) -> None:
    """``train --adapt sensor``: fit the real camera's sensor for a frozen translator."""
    from polaraug.cameras.noise import CHANNELS
    from polaraug.errors import ConfigError
    from polaraug.translate.adapt_sensor import adapt_sensor

    if init is None or rgb is None or polar is None:
        raise ConfigError("--adapt sensor needs --init CKPT (the translator), --rgb (frames to translate) and "
                          "--polar (the real, unlabelled frames)")
    fit = adapt_sensor(init, rgb, polar, out, seed=seed, device=device)
    typer.echo(f"exposure gain {fit.gain:.3f} (all channels)")
    typer.echo("channel  raw noise a, b (fitted)        measured on real frames  on translations through it")
    for c, label in enumerate(CHANNELS):
        (ra, rb), (sa, sb) = fit.real_curve[c], fit.simulated_curve[c]
        typer.echo(f"{label:<8} {fit.sensor.noise_a[c]:.3g}, {fit.sensor.noise_b[c]:.3g}{'':<12} "
                   f"{ra:.3g}, {rb:.3g}{'':<8} {sa:.3g}, {sb:.3g}")
    typer.echo(f"wrote {out / 'camera.yaml'} (translate --calibration {out / 'camera.yaml'})")
