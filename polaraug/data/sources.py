"""Labelled RGB sources by layout: BDD100K (images/100k + labels), KITTI (training/image_2 + label_2), COCO
(instances*.json), YOLO (data.yaml + labels/), or a plain folder of images (no labels). ``detect_format``
guesses the layout from the folder structure; a class map (``classmap.py``) renames classes in every
reader."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from polaraug.errors import ConfigError
from polaraug.io.listing import list_images

from .bdd100k import read_bdd100k
from .classmap import ClassMap
from .coco import coco_splits, read_coco
from .errors import DatasetError, SkipReport
from .frame import Frame
from .kitti import read_kitti
from .yolo_source import find_data_yaml, read_yolo

FORMATS = ("auto", "bdd100k", "kitti", "coco", "yolo", "folder")


def detect_format(src: Path) -> str:
    """The layout of ``src``: bdd100k, kitti, coco, yolo, else folder."""
    if (src / "images" / "100k").is_dir():
        return "bdd100k"
    if (src / "training" / "image_2").is_dir() or (src / "testing" / "image_2").is_dir():
        return "kitti"
    if coco_splits(src):
        return "coco"
    if find_data_yaml(src) is not None:
        return "yolo"
    return "folder"


def source_frames(src: Path, fmt: str = "auto", skip: SkipReport | None = None,
                  class_map: ClassMap | None = None) -> Iterator[Frame]:
    """Frames of every split of the source, with labels where the source has them.

    Args:
        src: the source folder.
        fmt: auto, bdd100k, kitti, coco, yolo or folder (a plain folder of images, no labels).
        skip: records bad frames and skips them instead of raising, and counts dropped labels.
        class_map: renames source classes (see ``classmap.py``) before each reader's own table.

    Returns:
        An iterator over the frames.

    Raises:
        DatasetError: malformed or missing input (the message names the file).
        ConfigError: an unknown ``fmt``.
    """
    src = Path(src)
    fmt = detect_format(src) if fmt == "auto" else fmt
    if fmt == "bdd100k":
        for split in ("train", "val", "test"):
            if (src / "images" / "100k" / split).is_dir():
                yield from read_bdd100k(src, split, skip_bad=skip, class_map=class_map)
    elif fmt == "kitti":
        for split, sub in (("train", "training"), ("test", "testing")):
            if (src / sub / "image_2").is_dir():
                yield from read_kitti(src, split, skip_bad=skip, class_map=class_map)
    elif fmt == "coco":
        yield from read_coco(src, class_map, skip)
    elif fmt == "yolo":
        yield from read_yolo(src, class_map, skip)
    elif fmt == "folder":
        paths = list_images(src, "rgb")
        if not paths:
            raise DatasetError(src, "no images")
        for p in paths:
            yield Frame(p.relative_to(src).as_posix(), p, [], split="train")
    else:
        raise ConfigError(f"unknown source format {fmt!r}; choose one of {FORMATS}")
