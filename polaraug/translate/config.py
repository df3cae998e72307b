"""Translator configuration: one dataclass, presets, YAML round trip with errors that name the key."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import yaml

MODES = ("none", "relax", "project", "proximal")


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

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"translator config: 'mode' must be one of {MODES}, got {self.mode!r}")
        for name in ("ngf", "n_blocks", "ndf", "n_layers", "crop", "batch"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < (0 if name == "n_blocks" else 1):
                raise ValueError(f"translator config: {name!r} must be a positive integer, got {getattr(self, name)!r}")
        if self.crop % 4:
            raise ValueError(f"translator config: 'crop' must be a multiple of 4, got {self.crop}")

    def architecture(self) -> dict[str, int]:
        """What a checkpoint must match to be loaded."""
        return {k: getattr(self, k) for k in ("ngf", "n_blocks", "ndf", "n_layers")}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PRESETS = {
    "reference": TranslatorConfig(),
    "cpu-small": TranslatorConfig(ngf=16, n_blocks=3, ndf=16, n_layers=2, crop=64, pool_size=10),
}


def config_from_dict(data: dict[str, Any], where: str = "<config>") -> TranslatorConfig:
    """Build a config from a mapping (optionally ``preset: name`` plus overrides)."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a mapping of settings")
    data = dict(data)
    base = PRESETS.get(data.pop("preset", "reference"))
    if base is None:
        raise ValueError(f"{where}: unknown 'preset' (choose one of {sorted(PRESETS)})")
    known = {f.name for f in fields(TranslatorConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    try:
        return TranslatorConfig(**{**base.to_dict(), **data})
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


def load_config(path: str | Path) -> TranslatorConfig:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ValueError(f"{path}: cannot read config: {e}") from None
    return config_from_dict(data or {}, str(path))
