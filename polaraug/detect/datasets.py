"""YOLO datasets for eval-detection: the sets exported once into ``OUT/datasets/``, plus the data.yaml
variants the arms train and evaluate on (every split, real + a synthetic subset, one weather only).

Each export records the weather of every frame (``weather.json``, stem -> weather) so that test sets can be
scored per weather; the paired RGB and polarimetric test sets of ``polaraug synth`` share scenes, so their
per-weather scores compare like with like.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
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


def _write_weather(frames: list[Frame], dst: Path) -> None:
    write_text(dst / "weather.json", json.dumps({f.flat_stem: f.weather for f in frames}, indent=0) + "\n")


def export_polar(src: Path, dst: Path, encoding: str) -> Path:
    """A polaraug-layout set -> YOLO dataset in ``encoding`` (skipped when done). Returns ``dst``."""
    if (dst / "data.yaml").is_file():
        return dst
    ps = read_polarset(src)
    if not ps.splits:
        raise DatasetError(src / "manifest.json", "the set lists no splits")
    frames = [f for s in ps.splits for f in ps.frames(s)]
    _require_boxes(frames, src)
    _write_weather(frames, dst)
    export_encoded(ps, dst, encoding)  # data.yaml last: it marks the export complete
    return dst


def export_rgb(src: Path, dst: Path) -> Path:
    """A labelled RGB source (BDD100K or KITTI layout) -> 3-channel YOLO dataset (images hard-linked)."""
    if (dst / "data.yaml").is_file():
        return dst
    frames = list(source_frames(Path(src)))
    _require_boxes(frames, src)
    splits: dict[str, list[Frame]] = defaultdict(list)
    for f in frames:
        splits[f.split].append(f)
    _write_weather(frames, dst)
    export_yolo(splits, dst, channels=3)
    return dst


def _images(root: Path) -> list[Path]:
    return sorted(p for p in (root / "images").rglob("*") if p.is_file())


def _yaml(root: Path, name: str, train: list[Path] | None, val: list[Path] | None) -> Path:
    """``root/name.yaml``: the set's data.yaml with train and/or val replaced by lists of images."""
    data = yaml.safe_load((root / "data.yaml").read_text())
    for key, images in (("train", train), ("val", val)):
        if images is not None:
            listing = write_text(root / f"{name}_{key}.txt", "".join(f"{p.resolve()}\n" for p in images))
            data[key] = str(listing.resolve())
    return write_text(root / f"{name}.yaml", yaml.safe_dump(data, sort_keys=False))


def all_splits_yaml(root: Path) -> Path:
    """Train and val on every image of an exported set."""
    images = _images(root)
    return _yaml(root, "all", images, images)


def mixed_yaml(real: Path, synthetic: Path, ratio: float, seed: int) -> Path:
    """Train on every real image + a random ``ratio``-sized subset of the synthetic ones (val: real)."""
    real_imgs, syn_imgs = _images(real), _images(synthetic)
    k = min(len(syn_imgs), max(1, round(ratio * len(real_imgs))))
    return _yaml(real, f"mix_s{seed}", real_imgs + random.Random(seed).sample(syn_imgs, k), real_imgs)


def repeated_yaml(real: Path, synthetic: Path, ratio: float) -> Path:
    """Train on the real images repeated to the size of the mixed set (the same optimizer steps per epoch
    as ``mixed_yaml``), val: real. The control for "more data" vs "more steps"."""
    real_imgs, syn_imgs = _images(real), _images(synthetic)
    n = len(real_imgs) + min(len(syn_imgs), max(1, round(ratio * len(real_imgs))))
    repeated = [real_imgs[i % len(real_imgs)] for i in range(n)]
    return _yaml(real, "repeated", repeated, real_imgs)


def weather_yamls(root: Path) -> dict[str, Path]:
    """One val yaml per weather with at least MIN_WEATHER_FRAMES test images (frames of unknown weather
    are left out)."""
    weather = json.loads((root / "weather.json").read_text())
    groups: dict[str, list[Path]] = defaultdict(list)
    for p in _images(root):
        w = weather.get(p.stem)
        if w:
            groups[w].append(p)
    return {w: _yaml(root, f"weather_{w.replace(' ', '_')}", None, imgs)
            for w, imgs in sorted(groups.items()) if len(imgs) >= MIN_WEATHER_FRAMES}
