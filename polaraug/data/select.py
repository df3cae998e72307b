"""Choosing frames by their attributes: what ``translate --where/--limit/--seed`` and ``polaraug coverage``
read. BDD100K labels carry ``weather``, ``timeofday`` and ``scene`` per frame; polaraug's own sets keep those
of their source (renders and translations alike); the other readers (KITTI, COCO, YOLO, plain folders) have
none.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from polaraug.errors import ConfigError

from .frame import Frame

ATTRIBUTES = ("weather", "timeofday", "scene")
WITH_ATTRIBUTES = ("bdd100k",)  # source formats whose frames carry ATTRIBUTES


def parse_where(clauses: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """``["weather=rainy,foggy", "timeofday=night"]`` -> {"weather": ("rainy", "foggy"), "timeofday": ("night",)}.

    Raises:
        ConfigError: a clause without ``=``, an unknown attribute, no value, or one attribute given twice.
    """
    where: dict[str, tuple[str, ...]] = {}
    for clause in clauses:
        key, sep, values = clause.partition("=")
        key = key.strip()
        chosen = tuple(v.strip() for v in values.split(",") if v.strip())
        if not sep or not chosen:
            raise ConfigError(f"--where {clause!r}: expected ATTRIBUTE=VALUE[,VALUE...], e.g. weather=rainy,foggy")
        if key not in ATTRIBUTES:
            raise ConfigError(f"--where {clause!r}: unknown attribute {key!r}; choose one of {', '.join(ATTRIBUTES)}")
        if key in where:
            raise ConfigError(f"--where: {key} is given twice; list its values in one clause ({key}=a,b)")
        where[key] = chosen
    return where


@dataclass(frozen=True)
class Selection:
    """Which frames of a source to take: those whose attributes match every ``where`` clause (any of its
    values), then at most ``limit`` of them drawn with ``seed`` (kept in source order).

    Attributes:
        where: {attribute: accepted values}; empty: every frame.
        limit: the most frames to take (None: all that match).
        seed: of the draw when more frames match than ``limit``.
    """

    where: dict[str, tuple[str, ...]] = field(default_factory=dict)
    limit: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"--limit must be at least 1, got {self.limit}")

    @property
    def active(self) -> bool:
        """Whether it leaves any frame out."""
        return bool(self.where) or self.limit is not None

    def matches(self, frame: Frame) -> bool:
        return all(getattr(frame, k) in values for k, values in self.where.items())

    def apply(self, frames: Sequence[Frame]) -> list[Frame]:
        """The chosen frames, in source order.

        Args:
            frames: every frame of the source.

        Returns:
            The frames that match, or ``limit`` of them drawn with ``seed``.
        """
        kept = [f for f in frames if self.matches(f)]
        if self.limit is not None and len(kept) > self.limit:
            chosen = set(random.Random(self.seed).sample(range(len(kept)), self.limit))
            kept = [f for i, f in enumerate(kept) if i in chosen]
        return kept

    def to_dict(self) -> dict:
        """As recorded in a translation's settings and manifest."""
        return {"where": {k: list(v) for k, v in self.where.items()}, "limit": self.limit, "seed": self.seed}

    def describe(self, total: int, kept: int, frames: Sequence[Frame]) -> str:
        """One line: how many frames each clause matched and how many were taken."""
        parts = [f"{k} in {','.join(v)}: {sum(getattr(f, k) in v for f in frames)}" for k, v in self.where.items()]
        limit = f"; at most {self.limit} drawn with seed {self.seed}" if self.limit is not None else ""
        return f"selected {kept} of {total} frames ({'; '.join(parts) or 'no filter'}{limit})"


def attribute_counts(frames: Iterable[Frame]) -> dict[str, Counter]:
    """{attribute: Counter of its values} over ``frames`` ("unknown" where a frame has none)."""
    counts = {a: Counter() for a in ATTRIBUTES}
    for f in frames:
        for a in ATTRIBUTES:
            counts[a][getattr(f, a) or "unknown"] += 1
    return counts
