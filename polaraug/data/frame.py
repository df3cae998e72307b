"""The one annotation model every reader fills and every writer reads.

Boxes are continuous pixel coordinates (x1, y1, x2, y2) with 0 <= x1 < x2 <= width: a box covering pixel
columns i..j has x1 = i and x2 = j + 1. Readers convert from each format's own convention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .classes import CLASS_ID


@dataclass(slots=True)
class Box:
    """One labelled box. ``cls`` is a canonical class, or None for a class-less ignore region.

    (Not frozen: a frozen dataclass costs 5x more to build, which is seconds on BDD100K's 1.3M boxes.)"""

    x1: float
    y1: float
    x2: float
    y2: float
    cls: str | None
    ignore: bool = False
    occluded: bool = False
    truncated: bool = False
    attributes: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.cls is not None and self.cls not in CLASS_ID:
            raise ValueError(f"unknown canonical class {self.cls!r}")
        if self.cls is None and not self.ignore:
            raise ValueError("a box without class must be an ignore region")

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1


@dataclass
class Frame:
    """One image and its labels. ``name`` is the image's path relative to the split's image folder."""

    name: str
    image: Path
    boxes: list[Box] = field(default_factory=list)
    width: int | None = None
    height: int | None = None
    split: str = "train"
    weather: str | None = None
    timeofday: str | None = None
    scene: str | None = None

    @property
    def stem(self) -> str:
        return Path(self.name).with_suffix("").as_posix()

    @property
    def flat_stem(self) -> str:
        """``stem`` usable as one file name: nested names stay unique (a/b.jpg -> a__b)."""
        return self.stem.replace("/", "__")
