"""The settings every arm of eval-detection shares: what the detector trains on, how long, and how it is
compared."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from polaraug.data.classes import CLASSES
from polaraug.data.encodings import check_encoding
from polaraug.errors import ConfigError, InputError

PROTOCOLS = ("mix", "pretrain-finetune")
BUDGETS = ("equal-steps", "equal-epochs")


@dataclass(kw_only=True)
class DetectionSettings:
    """Identical for every arm. CPU defaults are demo-sized; on a GPU use e.g. imgsz 640, epochs 100.

    Keyword-only. Raises ConfigError for an unknown encoding, protocol, budget or class, a non-positive
    ratio or no seeds; InputError for a weights file that does not exist.
    """

    encoding: str = "intensities"
    protocol: str = "mix"
    ratios: tuple[float, ...] = (1.0,)  # extra frames per real frame; several make a sweep
    budget: str = "equal-steps"
    seeds: tuple[int, ...] = (0, 1, 2)
    model: str = "yolov8n.yaml"
    weights: str | None = None
    epochs: int = 10
    imgsz: int = 160
    batch: int = 8
    device: str | None = None
    classes: tuple[str, ...] | None = None  # canonical classes to detect (None: all)
    patience: int = 100  # epochs without validation improvement before stopping (with a validation split)
    real_size: int | None = None  # real frames per training, each seed its own draw (None: the whole set)
    # ultralytics' nominal batch: gradients are accumulated over nbs / batch batches per optimizer step (None:
    # ultralytics' 64). A CPU-sized run of a few hundred batches takes nbs = batch: one step per batch.
    nbs: int | None = None

    def __post_init__(self) -> None:
        check_encoding(self.encoding)
        if self.protocol not in PROTOCOLS:
            raise ConfigError(f"protocol must be one of {PROTOCOLS}, got {self.protocol!r}")
        if self.budget not in BUDGETS:
            raise ConfigError(f"budget must be one of {BUDGETS}, got {self.budget!r}")
        if not self.ratios or any(r <= 0 for r in self.ratios):
            raise ConfigError(f"ratios must be positive, got {list(self.ratios)}")
        if self.classes is not None:
            unknown = [c for c in self.classes if c not in CLASSES]
            if unknown or not self.classes:
                raise ConfigError(f"unknown classes {unknown}; known: {', '.join(CLASSES)}")
        if self.weights is not None and not Path(self.weights).is_file():
            raise InputError(f"{self.weights}: no such weights file (nothing is downloaded)")
        if not self.seeds:
            raise ConfigError("at least one seed is needed")
        if self.nbs is not None and self.nbs < 1:
            raise ConfigError(f"nbs must be at least 1, got {self.nbs}")
        if self.real_size is not None and self.real_size < 1:
            raise ConfigError(f"real_size must be at least 1, got {self.real_size}")

    @classmethod
    def from_dict(cls, record: dict) -> DetectionSettings:
        """The settings of a ``to_dict`` record, e.g. an experiment's ``settings.json`` (its other keys, the
        inputs' paths and fingerprints, are ignored)."""
        kept = {k: tuple(v) if isinstance(v, list) else v for k, v in record.items()
                if k in cls.__dataclass_fields__}
        return cls(**kept)

    def to_dict(self) -> dict:
        d = asdict(self)
        return {**d, "seeds": list(self.seeds), "ratios": list(self.ratios),
                "classes": list(self.classes) if self.classes else None}
