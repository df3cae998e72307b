"""KITTI object reader: ``training/image_2/*.png`` + ``training/label_2/*.txt`` (``testing/`` has no labels).

Each label line has 15 fields (type, truncated, occluded, alpha, left, top, right, bottom, 3 dimensions,
3 location, rotation_y); a 16th (score) is tolerated. DontCare lines become class-less ignore regions, Misc
is dropped. Image sizes vary (about 1242x375) and are read from each PNG header.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from polaraug.io.images import ImageReadError, image_size

from . import classes
from ._checks import checked_box
from .errors import DatasetError, SkipReport, handle
from .frame import Box, Frame

SPLIT_DIRS = {"train": "training", "test": "testing"}


def read_kitti(root: str | Path, split: str = "train", skip_bad: SkipReport | None = None) -> Iterator[Frame]:
    """Yield the frames of ``training`` (split "train") or ``testing`` (split "test", no labels)."""
    base = Path(root) / SPLIT_DIRS.get(split, split)
    images, labels = base / "image_2", base / "label_2"
    if not images.is_dir():
        raise DatasetError(images, "no such folder: expected KITTI's training/image_2 or testing/image_2")
    paths = sorted(images.glob("*.png"))
    if not paths:
        raise DatasetError(images, "no PNG images")
    if split != "test" and not labels.is_dir():
        raise DatasetError(labels, "no such folder: the training split needs label_2 (use split='test' for none)")
    for path in paths:
        try:
            yield _frame(path, labels / f"{path.stem}.txt", split, labelled=split != "test")
        except (DatasetError, ImageReadError) as e:
            handle(e, skip_bad)


def _frame(image: Path, label_file: Path, split: str, labelled: bool) -> Frame:
    width, height = image_size(image)
    boxes: list[Box] = []
    if labelled:
        if not label_file.is_file():
            raise DatasetError(label_file, f"missing label file for image {image.name}")
        try:
            text = label_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise DatasetError(label_file, f"cannot read: {e}") from None
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                box = parse_label_line(line, width, height, label_file, n)
                if box is not None:
                    boxes.append(box)
    return Frame(image.name, image, boxes, width, height, split)


def parse_label_line(line: str, width: int, height: int, source: Path, n: int) -> Box | None:
    """One label_2 line -> Box (None for dropped types such as Misc)."""
    fields = line.split()
    if len(fields) not in (15, 16):
        raise DatasetError(source, f"expected 15 fields (16 with a score), got {len(fields)}", n)
    kind = fields[0]
    if kind in classes.KITTI_DROPPED:
        return None
    if kind not in classes.KITTI:
        raise DatasetError(source, f"unknown KITTI object type {kind!r}", n)
    try:
        trunc, occ = float(fields[1]), int(float(fields[2]))
        coords = tuple(float(v) for v in fields[4:8])
    except ValueError:
        raise DatasetError(source, f"non-numeric field in {line.strip()!r}", n) from None
    cls, ignore = classes.KITTI[kind]
    x1, y1, x2, y2 = checked_box(coords, width, height, source, f"{kind} box", line=n)  # type: ignore[arg-type]
    return Box(x1, y1, x2, y2, cls, ignore=ignore, occluded=occ >= 1, truncated=trunc > 0,
               attributes={"kitti_type": kind, "kitti_truncation": trunc, "kitti_occlusion": occ})
