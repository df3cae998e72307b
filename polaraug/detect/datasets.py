"""YOLO datasets for eval-detection: the sets exported once into ``OUT/datasets/``, the training listings
of the arms (real + a seeded sample of extra frames, repeated to a common size for equal optimizer steps),
and the data.yaml variants they train and evaluate on (a listing, every split), and the scoring set of a test set
(its data.yaml and which images show which weather and condition).

Each export records the weather and the condition of every frame (``weather.json`` and ``conditions.json``,
stem -> weather / condition; the condition is "night" for night frames, else the weather) so that test sets
can be scored per weather and per condition; the paired RGB and polarimetric test sets of ``polaraug synth``
share scenes, so their per-weather scores compare like with like.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from polaraug.data.errors import DatasetError
from polaraug.data.export import export_yolo
from polaraug.data.export.encoded import export_encoded
from polaraug.data.frame import Frame
from polaraug.data.polarset import read_polarset
from polaraug.data.sources import source_frames
from polaraug.io.atomic import write_text

MIN_WEATHER_FRAMES = 10  # fewer test frames of one weather give no meaningful per-weather mAP


def _require_boxes(frames: list[Frame], src: Path) -> None:
    if not any(not b.ignore for f in frames for b in f.boxes):
        raise DatasetError(src, "no labelled boxes: a detection set needs labels")


def condition_of(frame: Frame) -> str | None:
    """"night" for a night frame, else its weather (None when unknown)."""
    return "night" if frame.timeofday == "night" else frame.weather


def _write_weather(frames: list[Frame], dst: Path) -> None:
    write_text(dst / "weather.json", json.dumps({f.flat_stem: f.weather for f in frames}, indent=0) + "\n")
    write_text(dst / "conditions.json", json.dumps({f.flat_stem: condition_of(f) for f in frames}, indent=0) + "\n")


def export_polar(src: Path, dst: Path, encoding: str, *, classes: tuple[str, ...] | None = None,
                 depolarized: bool = False) -> Path:
    """A polaraug-layout set -> YOLO dataset in ``encoding`` (skipped when done). Returns ``dst``.

    Args:
        src: the polarimetric set.
        dst: the YOLO dataset folder.
        encoding: intensities, stokes, i0-i45-i90 or hsv.
        classes: canonical classes to label (None: all).
        depolarized: write the frames with their polarization removed (same s0, DoLP 0).
    """
    if (dst / "data.yaml").is_file():
        return dst
    ps = read_polarset(src)
    if not ps.splits:
        raise DatasetError(src / "manifest.json", "the set lists no splits")
    frames = [f for s in ps.splits for f in ps.frames(s)]
    _require_boxes(frames, src)
    _write_weather(frames, dst)
    # data.yaml last: it marks the export complete
    export_encoded(ps, dst, encoding, classes=classes, depolarized=depolarized)
    return dst


def export_rgb(src: Path, dst: Path, *, classes: tuple[str, ...] | None = None) -> Path:
    """A labelled RGB source (BDD100K or KITTI layout) -> 3-channel YOLO dataset (images hard-linked)."""
    if (dst / "data.yaml").is_file():
        return dst
    frames = list(source_frames(Path(src)))
    _require_boxes(frames, src)
    splits: dict[str, list[Frame]] = defaultdict(list)
    for f in frames:
        splits[f.split].append(f)
    _write_weather(frames, dst)
    export_yolo(splits, dst, channels=3, classes=classes)
    return dst


def images(root: Path) -> list[Path]:
    """Every image of an exported YOLO set, sorted."""
    return sorted(p for p in (root / "images").rglob("*") if p.is_file())


def by_stem(root: Path) -> dict[str, Path]:
    """{file stem: image} of an exported set (stems are unique: the export flattens names)."""
    return {p.stem: p for p in images(root)}


def missing_twin(frames: dict[str, Path], twins: dict[str, Path]) -> str | None:
    """The first (sorted) stem of ``frames`` without a twin of the same stem, or None when all have one."""
    return next((s for s in sorted(frames) if s not in twins), None)


def extra_count(n_real: int, n_extra: int, ratio: float) -> int:
    """Extra frames an arm adds: ``ratio`` per real frame, at least 1, at most what the set has."""
    return min(n_extra, max(1, round(ratio * n_real)))


def sample_extra(pool: dict[str, Path], names: list[str], k: int, seed: int) -> list[Path]:
    """``k`` frames of ``pool`` drawn by name from ``names`` with ``seed``: sets whose frames share names
    (translations of one RGB set, their oracle twins, their depolarized copies) get the same scenes."""
    chosen = random.Random(seed).sample(sorted(names), k)
    return [pool[s] for s in chosen]


def repeat_to(items: list[Path], size: int | None, seed: int) -> list[Path]:
    """``items`` shuffled with ``seed`` and repeated cyclically to ``size`` (None: as they are). Shuffling
    first keeps the remainder of the last repetition a fair sample rather than the head of the list."""
    if size is None:
        return list(items)
    order = list(items)
    random.Random(seed).shuffle(order)
    return [order[i % len(order)] for i in range(size)]


def _yaml(root: Path, name: str, train: list[Path] | None, val: list[Path] | None) -> Path:
    """``root/name.yaml``: the set's data.yaml with train and/or val replaced by lists of images."""
    data = yaml.safe_load((root / "data.yaml").read_text())
    for key, imgs in (("train", train), ("val", val)):
        if imgs is not None:
            listing = write_text(root / f"{name}_{key}.txt", "".join(f"{p.resolve()}\n" for p in imgs))
            data[key] = str(listing.resolve())
    return write_text(root / f"{name}.yaml", yaml.safe_dump(data, sort_keys=False))


def listing_yaml(root: Path, name: str, train: list[Path], val: list[Path]) -> Path:
    """A data.yaml in ``root`` (the set whose class names it uses) training on ``train``, validating on
    ``val``."""
    return _yaml(root, name, train, val)


def all_splits_yaml(root: Path) -> Path:
    """Train and val on every image of an exported set."""
    imgs = images(root)
    return _yaml(root, "all", imgs, imgs)


def groups(root: Path, key: str) -> dict[str, list[str]]:
    """{weather or condition: image stems} of an exported set, for the groups with at least
    MIN_WEATHER_FRAMES images (frames of unknown weather are left out).

    Args:
        root: the exported set.
        key: "weather" or "conditions" (the json file written at export; {} for an export without it).
    """
    path = root / f"{key}.json"
    label = json.loads(path.read_text()) if path.is_file() else {}
    found: dict[str, list[str]] = defaultdict(list)
    for p in images(root):
        g = label.get(p.stem)
        if g:
            found[g].append(p.stem)
    return {g: stems for g, stems in sorted(found.items()) if len(stems) >= MIN_WEATHER_FRAMES}


@dataclass(frozen=True)
class ScoringSet:
    """A test set as it is scored: one data.yaml of all its images, and which images make each weather and
    each condition (scores per group are computed from one validation pass's per-image records)."""

    all: Path
    weathers: dict[str, list[str]] = field(default_factory=dict)
    conditions: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, root: Path) -> ScoringSet:
        return cls(all_splits_yaml(root), groups(root, "weather"), groups(root, "conditions"))
