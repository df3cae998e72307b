"""One fuzz target per reader: how to write a valid sample (from data polaraug makes itself: ``synth`` sets,
its own writers and shipped files), which of its files to mutate, and how the reader reads it.

A :class:`Target` writes its sample once into a template folder (:class:`Samples` keeps them); every fuzz case
copies the template, mutates one file and calls ``read``, which consumes the reader's whole output (frames,
images, a camera) as a command would. ``check`` states what an accepted result must satisfy (the reader's
contract); a result that breaks it is a bug as much as a traceback.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml


@dataclass(frozen=True)
class Target:
    """A reader under test.

    ``files`` maps glob patterns (relative to the sample folder) to the kind of file they match (a kind of
    ``mutate.KINDS``); ``make(folder, samples)`` writes a valid sample into ``folder``; ``read(folder)``
    reads it and returns the result; ``check(result)`` is None or what is wrong with an accepted result.
    """

    name: str
    files: dict[str, str]
    make: Callable[[Path, Samples], None]
    read: Callable[[Path], Any]
    check: Callable[[Any], str | None] = field(default=lambda result: None)

    def mutable_files(self, folder: Path) -> list[tuple[Path, str]]:
        """(file, kind) of every file of a sample that may be mutated, in a stable order."""
        return [(p, kind) for pattern, kind in self.files.items() for p in sorted(folder.glob(pattern))
                if p.is_file()]


class Samples:
    """Valid samples, written once per target into ``root`` (and the synth sets they are made from)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._made: dict[str, Path] = {}

    def synth(self, layout: str) -> Path:
        """A tiny paired synth set (RGB in ``layout`` plus its polarimetric twin), generated once."""
        out = self.root / f"synth-{layout}"
        if not (out / "polar" / "manifest.json").is_file():
            from polaraug.synth.generate import SynthConfig, generate

            cfg = SynthConfig(n=3, width=40, height=32, seed=7, mode="paired", rgb_layout=layout, val_fraction=0.3)
            generate(cfg, out, workers=1, progress=False)
        return out

    def template(self, target: Target) -> Path:
        """The folder holding ``target``'s valid sample (written on first use)."""
        if target.name not in self._made:
            folder = self.root / "templates" / target.name.replace(" ", "-")
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            target.make(folder, self)
            self._made[target.name] = folder
        return self._made[target.name]


# ---- contracts of accepted results ---------------------------------------------------------------------------


def check_frames(frames: list) -> str | None:
    """Frames named once per split, with string attributes, a positive integer size and finite boxes inside it
    (x1 < x2, y1 < y2)."""
    seen = set()
    for f in frames:
        if not isinstance(f.name, str) or not f.name or (f.split, f.name) in seen:
            return f"frame name {f.name!r} (split {f.split!r}) empty or seen twice"
        seen.add((f.split, f.name))
        if not all(v is None or isinstance(v, str) for v in (f.weather, f.timeofday, f.scene)):
            return f"frame {f.name!r}: attributes {f.weather!r}, {f.timeofday!r}, {f.scene!r}"
        if f.width is None and f.height is None:
            continue
        if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (f.width, f.height)):
            return f"frame {f.name!r}: size {f.width!r}x{f.height!r}"
        for b in f.boxes:
            coords = (b.x1, b.y1, b.x2, b.y2)
            if not all(isinstance(v, float) and math.isfinite(v) for v in coords):
                return f"frame {f.name!r}: box {coords}"
            if not (0 <= b.x1 < b.x2 <= f.width and 0 <= b.y1 < b.y2 <= f.height):
                return f"frame {f.name!r}: box {coords} outside {f.width}x{f.height}"
    return None


def check_image(img: Any) -> str | None:
    """A non-empty (H, W) or (H, W, C) array of integers or floats."""
    if not isinstance(img, np.ndarray):
        return f"not an array: {type(img).__name__}"
    if img.ndim not in (2, 3) or img.size == 0 or img.dtype.kind not in "uif":
        return f"image of shape {img.shape} and type {img.dtype}"
    return None


def check_capture(result: list) -> str | None:
    """``[stored samples, capture, ...]``: captures of (H, W, 4) float32 intensities with an (H, W) bool
    saturation mask, finite when the stored samples are integers (NaN can then only come from the reader)."""
    stored, *captures = result
    problem = check_image(stored)
    if problem is not None:
        return problem
    for c in captures:
        y, sat = c.intensities, c.saturated
        if y.ndim != 3 or y.shape[2] != 4 or y.dtype != np.float32 or sat.shape != y.shape[:2] or y.size == 0:
            return f"capture of shape {y.shape} {y.dtype}, mask {sat.shape}"
        if stored.dtype.kind in "ui" and not np.isfinite(y).all():
            return f"capture of {stored.dtype} samples {stored.shape} with non-finite intensities"
    return None


# ---- label sources -------------------------------------------------------------------------------------------


def _copy(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, dirs_exist_ok=True)


def _det20_frames(samples: Samples) -> dict[str, list]:
    """{split: det_20 records} of the synth BDD100K set."""
    labels = samples.synth("bdd100k") / "rgb" / "labels" / "det_20"
    return {p.stem.removeprefix("det_"): json.loads(p.read_text()) for p in sorted(labels.glob("det_*.json"))}


def _bdd_images(folder: Path, samples: Samples) -> None:
    _copy(samples.synth("bdd100k") / "rgb" / "images", folder / "images")


def make_bdd_det20(folder: Path, samples: Samples) -> None:
    _bdd_images(folder, samples)
    _copy(samples.synth("bdd100k") / "rgb" / "labels", folder / "labels")


def make_bdd_scalabel(folder: Path, samples: Samples) -> None:
    _bdd_images(folder, samples)
    (folder / "labels" / "det_20").mkdir(parents=True)
    for split, frames in _det20_frames(samples).items():
        doc = {"config": {"imageSize": {"width": 40, "height": 32}}, "frames": frames}
        (folder / "labels" / "det_20" / f"det_{split}.json").write_text(json.dumps(doc, indent=1))


def make_bdd_2018(folder: Path, samples: Samples) -> None:
    _bdd_images(folder, samples)
    (folder / "labels").mkdir()
    for split, frames in _det20_frames(samples).items():
        legacy = [{**f, "timestamp": 10000} for f in frames]
        (folder / "labels" / f"bdd100k_labels_images_{split}.json").write_text(json.dumps(legacy, indent=1))


def make_bdd_per_image(folder: Path, samples: Samples) -> None:
    _bdd_images(folder, samples)
    for split, frames in _det20_frames(samples).items():
        out = folder / "labels" / "100k" / split
        out.mkdir(parents=True)
        for f in frames:
            stem = f["name"].removesuffix(".jpg")
            record = {"name": stem, "attributes": f.get("attributes", {}),
                      "frames": [{"timestamp": 10000, "objects": f.get("labels", [])}]}
            (out / f"{stem}.json").write_text(json.dumps(record, indent=1))


def read_source(fmt: str) -> Callable[[Path], list]:
    """A reader of a whole labelled source of format ``fmt`` (every split, every frame)."""

    def read(folder: Path) -> list:
        from polaraug.data.sources import source_frames

        return list(source_frames(folder, fmt))

    read.__name__ = f"read_{fmt}"
    return read


def make_kitti(folder: Path, samples: Samples) -> None:
    _copy(samples.synth("kitti") / "rgb" / "training", folder / "training")


def _synth_frames(samples: Samples) -> list:
    from polaraug.data.bdd100k import read_bdd100k

    root = samples.synth("bdd100k") / "rgb"
    return [f for split in ("train", "val") for f in read_bdd100k(root, split)]


def make_coco(folder: Path, samples: Samples) -> None:
    from polaraug.data.classes import CLASSES

    frames = _synth_frames(samples)
    images, annotations = [], []
    for i, f in enumerate(frames, start=1):
        entry = {"id": i, "file_name": f.name}
        if i > 1:  # the first image has no size: the reader takes it from the JPEG header
            entry.update(width=f.width, height=f.height)
        images.append(entry)
        for b in f.boxes:
            if b.cls is not None:
                annotations.append({"id": len(annotations) + 1, "image_id": i, "category_id": CLASSES.index(b.cls),
                                    "bbox": [b.x1, b.y1, b.width, b.height], "iscrowd": int(b.ignore)})
        (folder / "val2017").mkdir(exist_ok=True)
        shutil.copyfile(f.image, folder / "val2017" / f.name)
    doc = {"images": images, "annotations": annotations,
           "categories": [{"id": k, "name": c} for k, c in enumerate(CLASSES)]}
    (folder / "annotations").mkdir()
    (folder / "annotations" / "instances_val2017.json").write_text(json.dumps(doc, indent=1))


def make_yolo(folder: Path, samples: Samples) -> None:
    from polaraug.data.export.yolo import export_yolo

    frames = _synth_frames(samples)
    export_yolo({s: [f for f in frames if f.split == s] for s in ("train", "val")}, folder)
    data = yaml.safe_load((folder / "data.yaml").read_text())
    data.pop("path")  # relative to the YAML: the copies of the sample read their own images
    (folder / "data.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    for p in (folder / "images").rglob("*.jpg"):  # real copies, not hard links into the synth set
        data = p.read_bytes()
        p.unlink()
        p.write_bytes(data)


def make_class_map(folder: Path, samples: Samples) -> None:
    (folder / "classes.yaml").write_text("PEDESTRIAN: pedestrian\nvan: car\nanimal: drop\nON_ROAD_OBSTACLE: ignore\n"
                                         "Cyclist: rider\n")


def read_class_map(folder: Path):
    from polaraug.data.classmap import ClassMap

    return ClassMap.load(folder / "classes.yaml")


# ---- settings files ------------------------------------------------------------------------------------------


def make_camera(folder: Path, samples: Samples) -> None:
    from polaraug.cameras import camera_from_dict, save_camera

    cam = camera_from_dict({
        "name": "fuzz", "description": "a camera file for fuzzing", "angles_deg": [0.5, 45.2, 89.4, 134.9],
        "gains": [1.0, 0.97, 1.03, 0.99], "extinction_ratios": [150, 180, 200, 160.5], "bit_depth": 12,
        "dofp_pattern": [[90, 45], [135, 0]], "gain_map": "gains.npy",
        "sensor": {"noise_a": 0.001, "noise_b": [1e-5, 1e-5, 2e-5, 1e-5], "black_level": 0.01, "gamma": 1.0}})
    np.save(folder / "gains.npy", np.full((8, 10), 1.02, np.float32))
    save_camera(dataclasses.replace(cam, path=folder / "camera.yaml"), folder / "camera.yaml")  # map beside it


def read_camera(folder: Path):
    from polaraug.cameras import load_camera

    cam = load_camera(folder / "camera.yaml")
    cam.pixel_gains()
    return cam


def make_pipeline(folder: Path, samples: Samples) -> None:
    from importlib import resources

    shutil.copyfile(Path(str(resources.files("polaraug") / "pipelines" / "demo.yaml")), folder / "pipeline.yaml")


def read_pipeline(folder: Path):
    from polaraug.pipeline.spec import load_pipeline

    return load_pipeline(folder / "pipeline.yaml", workdir=folder / "work")


def make_translator_config(folder: Path, samples: Samples) -> None:
    from polaraug.translate.config import PRESETS

    (folder / "translator.yaml").write_text(yaml.safe_dump(PRESETS["cpu-small"].to_dict(), sort_keys=False))


def read_translator_config(folder: Path):
    from polaraug.translate.config import load_config

    return load_config(folder / "translator.yaml")


# ---- polarimetric sets, images, captures, checkpoints --------------------------------------------------------


def make_polarset(folder: Path, samples: Samples) -> None:
    _copy(samples.synth("bdd100k") / "polar", folder)


def read_polarset_all(folder: Path) -> tuple[list, list]:
    """Open the set, list every split's frames and load each frame's intensities, as training does."""
    from polaraug.data.polarset import read_polarset

    ps = read_polarset(folder)
    frames = [frame for split in ps.splits for frame in ps.frames(split)]
    return frames, [ps.load(frame) for frame in frames]


def check_polarset(result: tuple[list, list]) -> str | None:
    """Frames as ``check_frames`` wants them, each with finite (H, W, 4) float32 intensities of its size."""
    frames, images = result
    for frame, y in zip(frames, images, strict=True):
        if y.ndim != 3 or y.shape[2] != 4 or y.dtype != np.float32 or not np.isfinite(y).all():
            return f"frame {frame.name!r}: intensities of shape {y.shape} {y.dtype}"
        if (frame.height, frame.width) != y.shape[:2]:
            return f"frame {frame.name!r}: labels say {frame.width}x{frame.height}, the image {y.shape[:2]}"
    return check_frames(frames)


def make_angle_files(folder: Path, samples: Samples) -> None:
    from polaraug.io.images import write_image

    y = _u16(_intensities())
    for k, angle in enumerate((0, 45, 90, 135)):
        write_image(folder / f"scene_{angle}.png", np.ascontiguousarray(y[..., k]))


def read_angle_files(folder: Path) -> list:
    """``validate``'s reader of a folder in any layout, here per-angle files NAME_0/45/90/135.png."""
    from polaraug.data.polarset import scan_polarimetric

    _, frames = scan_polarimetric(folder)
    return [frame.read() for frame in frames]


def check_stacks(stacks: list) -> str | None:
    """(H, W, 4) images, one per frame."""
    for y in stacks:
        if check_image(y) is not None or y.ndim != 3 or y.shape[2] != 4:
            return f"frame of shape {y.shape} {y.dtype}"
    return None


def _intensities(height: int = 24, width: int = 32) -> np.ndarray:
    """(H, W, 4) float intensities in [0, 1] of polaraug's polarized test pattern through an ideal camera."""
    from polaraug.physics import camera_matrix
    from polaraug.synth import polarized_test_pattern

    s = polarized_test_pattern(height, width).astype(np.float64)
    return np.clip(s @ camera_matrix(dtype=np.float64).T, 0, 1)


def image_maker(name: str, convert: Callable[[np.ndarray], np.ndarray]) -> Callable[[Path, Samples], None]:
    def make(folder: Path, samples: Samples) -> None:
        from polaraug.io.images import write_image

        write_image(folder / name, convert(_intensities()))

    return make


def image_reader(name: str) -> Callable[[Path], np.ndarray]:
    def read(folder: Path) -> np.ndarray:
        from polaraug.io.images import read_image

        return read_image(folder / name)

    return read


@functools.cache
def _builtin_camera(name: str):
    from polaraug.cameras import load_camera

    return load_camera(name)


def make_raw(folder: Path, samples: Samples) -> None:
    from polaraug.io.images import write_image
    from polaraug.physics import mosaic

    raw = mosaic(_intensities(), _builtin_camera("sony_imx250mzr").dofp_pattern)
    write_image(folder / "raw.png", np.round(np.asarray(raw) * 4095).astype(np.uint16) << 4)


def read_raw_capture(folder: Path) -> list:
    """``calibrate sensor``'s reader of raw samples and ``inspect``'s reader of a capture, on one mosaic."""
    from polaraug.cameras.noise import read_raw
    from polaraug.io.capture import read_capture

    cam = _builtin_camera("sony_imx250mzr")
    return [read_raw(folder / "raw.png", cam), read_capture(folder / "raw.png", cam)]


def read_four_channel_capture(folder: Path) -> list:
    from polaraug.io.capture import read_capture
    from polaraug.io.images import read_image

    return [read_image(folder / "capture.tiff"), read_capture(folder / "capture.tiff", _builtin_camera("ideal"))]


CHECKPOINT_FORMAT = "polaraug-fuzz/1"


def make_checkpoint(folder: Path, samples: Samples) -> None:
    import torch

    torch.save({"format": CHECKPOINT_FORMAT, "step": 3, "nets": {"w": torch.arange(6.0).reshape(2, 3)},
                "config": {"lr": 2e-4}}, folder / "last.pt")


def read_checkpoint_state(folder: Path) -> dict:
    from polaraug.io.checkpoints import load_state

    return load_state(folder / "last.pt", CHECKPOINT_FORMAT, "fuzz")


def _u16(y: np.ndarray) -> np.ndarray:
    return np.round(y * 65535).astype(np.uint16)


def _rgb8(y: np.ndarray) -> np.ndarray:
    return np.round(y[..., :3] * 255).astype(np.uint8)


TARGETS: tuple[Target, ...] = (
    Target("bdd100k det_20", {"labels/det_20/*.json": "json"}, make_bdd_det20, read_source("bdd100k"), check_frames),
    Target("bdd100k scalabel", {"labels/det_20/*.json": "json"}, make_bdd_scalabel, read_source("bdd100k"),
           check_frames),
    Target("bdd100k 2018", {"labels/*.json": "json"}, make_bdd_2018, read_source("bdd100k"), check_frames),
    Target("bdd100k per-image", {"labels/100k/*/*.json": "json"}, make_bdd_per_image, read_source("bdd100k"),
           check_frames),
    Target("kitti", {"training/label_2/*.txt": "text", "training/image_2/*.png": "png"}, make_kitti,
           read_source("kitti"), check_frames),
    Target("coco", {"annotations/*.json": "json", "val2017/*.jpg": "jpg"}, make_coco, read_source("coco"),
           check_frames),
    Target("yolo", {"data.yaml": "yaml", "labels/*/*.txt": "text", "images/*/*.jpg": "jpg"}, make_yolo,
           read_source("yolo"), check_frames),
    Target("class map", {"classes.yaml": "yaml"}, make_class_map, read_class_map),
    Target("camera", {"camera.yaml": "yaml", "gains.npy": "npy"}, make_camera, read_camera),
    Target("pipeline", {"pipeline.yaml": "yaml"}, make_pipeline, read_pipeline),
    Target("translator config", {"translator.yaml": "yaml"}, make_translator_config, read_translator_config),
    Target("polarset", {"manifest.json": "json", "labels/*.json": "json", "images/*/*.png": "png"}, make_polarset,
           read_polarset_all, check_polarset),
    Target("angle files", {"scene_*.png": "png"}, make_angle_files, read_angle_files, check_stacks),
    Target("image png", {"image.png": "png"}, image_maker("image.png", _u16), image_reader("image.png"), check_image),
    Target("image tiff", {"image.tiff": "tiff"}, image_maker("image.tiff", lambda y: y.astype(np.float32)),
           image_reader("image.tiff"), check_image),
    Target("image npy", {"image.npy": "npy"}, image_maker("image.npy", lambda y: y.astype(np.float32)),
           image_reader("image.npy"), check_image),
    Target("image jpg", {"image.jpg": "jpg"}, image_maker("image.jpg", _rgb8), image_reader("image.jpg"), check_image),
    Target("image bmp", {"image.bmp": "bmp"}, image_maker("image.bmp", _rgb8), image_reader("image.bmp"), check_image),
    Target("raw dofp", {"raw.png": "png"}, make_raw, read_raw_capture, check_capture),
    Target("capture", {"capture.tiff": "tiff"}, image_maker("capture.tiff", _u16), read_four_channel_capture,
           check_capture),
    Target("checkpoint", {"last.pt": "torch"}, make_checkpoint, read_checkpoint_state),
)


def target_named(name: str) -> Target:
    """The target called ``name`` (KeyError with the known names otherwise)."""
    for t in TARGETS:
        if t.name == name:
            return t
    raise KeyError(f"no fuzz target {name!r}; known: {', '.join(t.name for t in TARGETS)}")
