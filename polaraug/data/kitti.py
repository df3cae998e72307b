"""KITTI object reader: ``training/image_2/*.png`` + ``training/label_2/*.txt`` (``testing/`` has no labels).

Each label line has 15 fields (type, truncated, occluded, alpha, left, top, right, bottom, 3 dimensions,
3 location, rotation_y); a 16th (score) is tolerated. DontCare lines become class-less ignore regions, Misc
is dropped. Image sizes vary (about 1242x375) and are read from each PNG header.

Converted datasets bend the format: type names are matched case-insensitively (``PEDESTRIAN``), and a box
of a type KITTI does not have or with no area inside the image (objects outside the frame) is dropped alone
and counted in the skip report (``dropped_boxes``), never the whole frame. Malformed lines still fail
their frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from polaraug.io.images import ImageReadError, image_size

from . import classes
from ._checks import checked_box
from .classmap import ClassMap
from .errors import BoxDropped, DatasetError, SkipReport, handle
from .frame import Box, Frame

SPLIT_DIRS = {"train": "training", "test": "testing"}
_TYPES = {name.lower(): name for name in (*classes.KITTI, *classes.KITTI_DROPPED)}  # case-insensitive lookup


def read_kitti(root: str | Path, split: str = "train", skip_bad: SkipReport | None = None,
               class_map: ClassMap | None = None) -> Iterator[Frame]:
    """Yield the frames of ``training`` (split "train") or ``testing`` (split "test", no labels); a class map
    renames types before KITTI's own table."""
    base = Path(root) / SPLIT_DIRS.get(split, split)
    images, labels = base / "image_2", base / "label_2"
    if not images.is_dir():
        raise DatasetError(images, "no such folder: expected KITTI's training/image_2 or testing/image_2")
    paths = sorted(images.glob("*.png"))
    if not paths:
        raise DatasetError(images, "no PNG images")
    if split != "test" and not labels.is_dir():
        raise DatasetError(labels, "no such folder: the training split needs label_2 (use split='test' for none)")
    dropped = skip_bad if skip_bad is not None else SkipReport()
    for path in paths:
        try:
            yield _frame(path, labels / f"{path.stem}.txt", split, labelled=split != "test", dropped=dropped,
                         class_map=class_map)
        except (DatasetError, ImageReadError) as e:
            handle(e, skip_bad)


def _frame(image: Path, label_file: Path, split: str, labelled: bool, dropped: SkipReport,
           class_map: ClassMap | None = None) -> Frame:
    width, height = image_size(image)
    boxes: list[Box] = []
    if labelled:
        if not label_file.is_file():
            raise DatasetError(label_file, f"missing label file for image {image.name}")
        try:
            text = label_file.read_text(encoding="utf-8-sig")  # -sig: a byte order mark is not part of a type
        except (OSError, UnicodeDecodeError) as e:
            raise DatasetError(label_file, f"cannot read: {e}") from None
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    box = parse_label_line(line, width, height, label_file, n, class_map, image=image.name)
                except BoxDropped as e:
                    dropped.drop(e.reason)
                    continue
                if box is not None:
                    boxes.append(box)
    return Frame(image.name, image, boxes, width, height, split)


def parse_label_line(line: str, width: int, height: int, source: Path, n: int,
                     class_map: ClassMap | None = None, image: str | None = None) -> Box | None:
    """One label_2 line -> Box (None for dropped types such as Misc); ``image`` (the image's name, whose
    size is ``width`` x ``height``) is named in messages about the box.

    Raises:
        DatasetError: a malformed line; BoxDropped: a type KITTI does not have, or a box with no area.
    """
    fields = line.split()
    if len(fields) not in (15, 16):
        raise DatasetError(source, f"expected 15 fields (16 with a score), got {len(fields)}", n)
    mapped = class_map.lookup(fields[0]) if class_map is not None else False
    kind = _TYPES.get(fields[0].lower())
    if mapped is None or (mapped is False and kind in classes.KITTI_DROPPED):
        return None
    if mapped is False and kind is None:
        raise BoxDropped(source, f"unknown KITTI object type {fields[0]!r}", n)
    try:
        trunc, occ = float(fields[1]), int(float(fields[2]))
        coords = tuple(float(v) for v in fields[4:8])
    except (ValueError, OverflowError):  # OverflowError: int(float("inf"))
        raise DatasetError(source, f"non-numeric field in {line.strip()!r}", n) from None
    cls, ignore = mapped if mapped is not False else classes.KITTI[kind]
    what = f"{fields[0]} box" + (f" of image {image}" if image else "")
    x1, y1, x2, y2 = checked_box(coords, width, height, source, what, line=n)  # type: ignore[arg-type]
    return Box(x1, y1, x2, y2, cls, ignore=ignore, occluded=occ >= 1, truncated=trunc > 0,
               attributes={"kitti_type": kind or fields[0], "kitti_truncation": trunc, "kitti_occlusion": occ})
