"""Translator configuration: one dataclass, presets, YAML round trip with errors that name the key."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from polaraug.errors import ConfigError, excerpt, parse_reason
from polaraug.nn.adversarial import GAN_LOSSES
from polaraug.nn.networks import DOWNSAMPLING, SKIPS, UPSAMPLING, min_input_side

MODES = ("none", "relax", "project", "proximal")
# the settings that shape the RGB -> polarimetric generator (its weights' names and shapes, or its graph),
# and the discriminators'
GENERATOR_KEYS = ("ngf", "n_blocks", "head", "upsample", "downsample", "context", "skips")
DISCRIMINATOR_KEYS = ("ndf", "n_layers", "d_scales", "d_view")
HEADS = ("intensities", "stokes")
# what the paired discriminator sees beside the RGB: the four intensities, or also the normalised Stokes
# (s1/s0, s2/s0), where the polarization is not a modulation of a few percent of the intensity
D_VIEWS = ("intensities", "polarization")
MAX_LAYERS, MAX_SCALES = 12, 8  # a 12-layer PatchGAN already needs 12288 px crops


@dataclass(frozen=True)
class TranslatorConfig:
    """Architecture and training settings. Defaults: the reference CycleGAN (ngf 64, 9 blocks, 70x70
    PatchGAN, λ_cycle 10, Adam 2e-4 / β1 0.5, pool 50); polarimetric terms λ (calib), μ (optical),
    ν (proximal) as used by each constraint mode."""

    mode: str = "relax"
    ngf: int = 64
    n_blocks: int = 9
    ndf: int = 64
    n_layers: int = 3
    lambda_cycle: float = 10.0
    lambda_calib: float = 1.0
    mu_optical: float = 1.0
    nu_proximal: float = 1.0
    lr: float = 2e-4
    beta1: float = 0.5
    pool_size: int = 50
    crop: int = 256
    batch: int = 1
    epochs: int = 100
    decay_epochs: int = 100
    # What the generator predicts: "stokes" (s0 as a residual on the RGB luminance, DoLP, AoLP as a unit
    # vector; y = A s, admissible by construction: ``mode`` then changes nothing) or "intensities" (tanh,
    # then the mode's constraint).
    head: str = "stokes"  # the translator ablation's pick (docs/translator.md)
    # Paired objective (pix2pix with polarization terms) and the paired anchor of unpaired adaptation:
    # L = λ_adv L_GAN + λ_l1 |y - ŷ| + λ_stokes |(s1, s2) - (ŝ1, ŝ2)| + λ_aolp Σ w (1 - cos 2Δφ) / Σ w
    #     + λ_dolp |DoLP - DoLP^| + λ_dolp_grad |∇DoLP - ∇DoLP^|. The Stokes term weighs a pixel's DoLP
    #     error by its brightness; the DoLP term weighs every pixel alike, as the DoLP MAE does (dark glass
    #     has a high DoLP).
    lambda_adv: float = 1.0
    lambda_l1: float = 100.0
    lambda_stokes: float = 100.0
    lambda_aolp: float = 10.0
    lambda_dolp: float = 0.0
    # L1 on the DoLP's spatial gradients (Sobel): rewards the truth's polarization edges where they are and
    # penalises edges where it has none; the other terms weigh the polarization's edges little.
    lambda_dolp_grad: float = 0.0
    lambda_anchor: float = 0.0  # weight of the paired loss on rendered pairs during unpaired training
    # Adversarial loss (lsgan, vanilla, wgan-gp): wgan-gp trains a critic with gradient penalty λ_gp, no
    # image pool, and updates the generators every n_critic-th step.
    gan_loss: str = "lsgan"
    n_critic: int = 1
    lambda_gp: float = 10.0
    # pix2pixHD pieces: discriminators at d_scales scales; feature matching λ_fm (paired objective only:
    # it compares D's activations on a frame's true twin and its translation).
    d_scales: int = 1
    lambda_fm: float = 0.0
    # The paired discriminator's view of the polarimetric frame (D_VIEWS): "polarization" adds the
    # normalised Stokes s1/s0 and s2/s0 (DoLP cos 2φ, DoLP sin 2φ) to its input, so that it judges the
    # polarization's structure at the scale of the intensities' (paired objective only).
    d_view: str = "intensities"
    # Generator architecture: upsampling by transposed convolutions (the reference) or resize + convolution
    # (no checkerboards); downsampling by stride-2 convolutions (the reference) or anti-aliased blur pooling;
    # ``context`` > 0 adds the whole-frame context branch with a canvas of that side (polaraug.nn.context);
    # 0 translates what the generator sees and nothing more. ``skips`` (0-2) adds the encoder's full (and
    # half) resolution features to the decoder's (polaraug.nn.networks.ResnetGenerator).
    upsample: str = "transpose"
    downsample: str = "stride"
    context: int = 0
    skips: int = 0
    # Decay of an exponential moving average of the generator's weights (0: none). Checkpoints then keep
    # the average beside the trained weights, and inference uses the average: one checkpoint's scores
    # then depend less on where the last optimizer steps happened to land.
    ema: float = 0.0

    def __post_init__(self) -> None:
        _check_types(self)
        if self.mode not in MODES:
            raise ConfigError(f"translator config: 'mode' must be one of {MODES}, got {excerpt(self.mode)}")
        for name in ("ngf", "n_blocks", "ndf", "n_layers", "crop", "batch"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < (0 if name == "n_blocks" else 1):
                raise ConfigError(f"translator config: {name!r} must be a positive integer, "
                                  f"got {excerpt(getattr(self, name))}")
        if self.head not in HEADS:
            raise ConfigError(f"translator config: 'head' must be one of {HEADS}, got {excerpt(self.head)}")
        if self.gan_loss not in GAN_LOSSES:
            raise ConfigError(f"translator config: 'gan_loss' must be one of {GAN_LOSSES}, "
                              f"got {excerpt(self.gan_loss)}")
        if self.d_view not in D_VIEWS:
            raise ConfigError(f"translator config: 'd_view' must be one of {D_VIEWS}, got {excerpt(self.d_view)}")
        for name in ("n_critic", "d_scales"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ConfigError(f"translator config: {name!r} must be a positive integer, "
                                  f"got {excerpt(getattr(self, name))}")
        for name in ("lambda_adv", "lambda_l1", "lambda_stokes", "lambda_aolp", "lambda_dolp", "lambda_dolp_grad",
                     "lambda_anchor", "lambda_gp", "lambda_fm"):
            if getattr(self, name) < 0:
                raise ConfigError(f"translator config: {name!r} must be >= 0, got {getattr(self, name)}")
        if self.upsample not in UPSAMPLING:
            raise ConfigError(f"translator config: 'upsample' must be one of {UPSAMPLING}, "
                              f"got {excerpt(self.upsample)}")
        if self.downsample not in DOWNSAMPLING:
            raise ConfigError(f"translator config: 'downsample' must be one of {DOWNSAMPLING}, "
                              f"got {excerpt(self.downsample)}")
        if not isinstance(self.context, int) or self.context < 0 or self.context % 4 or 0 < self.context < 16:
            raise ConfigError(f"translator config: 'context' must be 0 (off) or a multiple of 4 of at least 16, "
                              f"got {excerpt(self.context)}")
        if self.skips not in SKIPS:
            raise ConfigError(f"translator config: 'skips' must be one of {SKIPS}, got {excerpt(self.skips)}")
        if not 0 <= self.ema < 1:
            raise ConfigError(f"translator config: 'ema' must be 0 (off) or a decay in (0, 1), got {self.ema}")
        if self.crop % 4:
            raise ConfigError(f"translator config: 'crop' must be a multiple of 4, got {self.crop}")
        if self.n_layers > MAX_LAYERS or self.d_scales > MAX_SCALES:  # bounds first: the crop check below is 2^n
            raise ConfigError(f"translator config: a discriminator has at most {MAX_LAYERS} layers ('n_layers') and "
                              f"{MAX_SCALES} scales ('d_scales'), got {self.n_layers} and {self.d_scales}")
        if self.crop < min_input_side(self.n_layers, self.d_scales):
            raise ConfigError(f"translator config: a discriminator of {self.n_layers} layers at {self.d_scales} "
                              f"scale(s) needs crops of at least {min_input_side(self.n_layers, self.d_scales)} px, "
                              f"got 'crop' {self.crop}")

    def generator_architecture(self) -> dict[str, Any]:
        """What a generator's weights must match to be loaded into another run's (``--init``)."""
        return {k: getattr(self, k) for k in GENERATOR_KEYS}

    def architecture(self) -> dict[str, Any]:
        """What a checkpoint must match to be loaded: the generator's and the discriminator's settings."""
        return {**self.generator_architecture(), **{k: getattr(self, k) for k in DISCRIMINATOR_KEYS}}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_TYPE_NAMES = {"int": "an integer", "float": "a finite number", "str": "a string"}


def _check_types(cfg: TranslatorConfig) -> None:
    """Every field of its declared type (integers are not booleans; numbers are finite); the counts
    ``pool_size``, ``epochs`` and ``decay_epochs`` are not negative."""
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if f.type == "int":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif f.type == "float":
            ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
                  and not (isinstance(value, float) and not math.isfinite(value)))
        else:
            ok = isinstance(value, str)
        if not ok:
            hint = " (YAML reads 1e-4 as text: write 1.0e-4)" if f.type == "float" and isinstance(value, str) else ""
            raise ConfigError(f"translator config: {f.name!r} must be {_TYPE_NAMES[f.type]}, "
                              f"got {excerpt(value)}{hint}")
    for name in ("pool_size", "epochs", "decay_epochs"):
        if getattr(cfg, name) < 0:
            raise ConfigError(f"translator config: {name!r} must be >= 0, got {getattr(cfg, name)}")


PRESETS = {
    "reference": TranslatorConfig(),
    "cpu-small": TranslatorConfig(ngf=16, n_blocks=3, ndf=16, n_layers=2, crop=64, pool_size=10),
    # The translator ablation's architecture (docs/translator.md): 6 blocks, batch 4 of 64 px crops.
    "cpu-medium": TranslatorConfig(ngf=16, n_blocks=6, ndf=16, n_layers=2, crop=64, pool_size=10, batch=4),
    # cpu-medium with the whole-frame context branch (a 64 px canvas) and resize-convolution upsampling
    # (docs/translator.md; the built-in translator is cpu-medium).
    "cpu-context": TranslatorConfig(ngf=16, n_blocks=6, ndf=16, n_layers=2, crop=64, pool_size=10, batch=4,
                                    upsample="resize", context=64),
}


def config_from_dict(data: dict[str, Any], where: str = "<config>") -> TranslatorConfig:
    """Build a config from a mapping (optionally ``preset: name`` plus overrides)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of settings")
    data = dict(data)
    preset = data.pop("preset", "reference")
    base = PRESETS.get(preset) if isinstance(preset, str) else None
    if base is None:
        raise ConfigError(f"{where}: unknown 'preset' (choose one of {sorted(PRESETS)})")
    known = {f.name for f in fields(TranslatorConfig)}
    unknown = sorted(set(data) - known, key=str)  # YAML keys may be numbers or null
    if unknown:
        raise ConfigError(f"{where}: unknown key {excerpt(unknown[0])} (known: {', '.join(sorted(known))})")
    try:
        return TranslatorConfig(**{**base.to_dict(), **data})
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None


def load_config(path: str | Path) -> TranslatorConfig:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError) as e:
        raise ConfigError(f"{path}: cannot read config: {parse_reason(e)}") from None
    return config_from_dict(data or {}, str(path))
