"""Ultralytics YOLO dataset export: ``data.yaml`` + ``images/{split}/`` + ``labels/{split}/*.txt``.

``data.yaml`` carries ``channels`` (ultralytics >= 8.4.175 reads 4-channel PNGs with ``channels: 4``) and
the canonical class names. Label lines are ``class cx cy w h`` normalised to [0, 1]. YOLO has no ignore
regions: ignore boxes are left out (documented in the report). Images are hard-linked where possible,
else copied, so the export costs no image re-encoding.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from polaraug.errors import InputError
from polaraug.io.atomic import link_or_copy, write_text

from ..classes import CLASS_ID, CLASSES
from ..frame import Frame


@dataclass
class YoloExportReport:
    frames: dict[str, int] = field(default_factory=dict)
    boxes: int = 0
    ignored_boxes_dropped: int = 0
    other_class_boxes_dropped: int = 0


def label_lines(frame: Frame, width: int, height: int,
                classes: Collection[str] | None = None) -> tuple[list[str], int, int]:
    """YOLO lines of a frame, the number of ignore boxes left out, and the number of boxes left out for a
    class outside ``classes`` (None: every class kept)."""
    lines, dropped, other = [], 0, 0
    for b in frame.boxes:
        if b.ignore or b.cls is None:
            dropped += 1
            continue
        if classes is not None and b.cls not in classes:
            other += 1
            continue
        cx, cy = (b.x1 + b.x2) / 2 / width, (b.y1 + b.y2) / 2 / height
        lines.append(f"{CLASS_ID[b.cls]} {cx:.6f} {cy:.6f} {b.width / width:.6f} {b.height / height:.6f}")
    return lines, dropped, other


def export_yolo(splits: Mapping[str, Iterable[Frame]], out: str | Path, channels: int = 3,
                image_writer: Callable[[Frame, Path], Path] | None = None,
                classes: Collection[str] | None = None) -> YoloExportReport:
    """Write a YOLO dataset of ``splits`` (e.g. {"train": frames, "val": frames}) into ``out``.

    Every frame needs ``width`` and ``height``. Images are hard-linked (or copied), or written by
    ``image_writer(frame, path_without_suffix) -> written path`` (e.g. to re-encode them).

    Args:
        splits: {split name: frames}.
        out: the dataset folder (data.yaml, images/, labels/).
        channels: image channels, written to data.yaml.
        image_writer: writes a frame's image instead of linking it; returns the written path.
        classes: canonical classes to label (None: all); boxes of other classes are left out, so the
            detector learns those objects as background in every split alike.

    Returns:
        Counts of frames per split, boxes and dropped ignore boxes.

    Raises:
        InputError: a frame without a known size.
    """
    out = Path(out)
    report = YoloExportReport()
    for split, frames in splits.items():
        count = 0
        for frame in frames:
            if frame.width is None or frame.height is None:
                raise InputError(f"{frame.image}: frame size unknown; cannot normalise YOLO boxes")
            stem = frame.flat_stem
            if image_writer is None:
                link_or_copy(frame.image, out / "images" / split / f"{stem}{frame.image.suffix}")
            else:
                image_writer(frame, out / "images" / split / stem)
            lines, dropped, other = label_lines(frame, frame.width, frame.height, classes)
            write_text(out / "labels" / split / f"{stem}.txt", "".join(line + "\n" for line in lines))
            report.boxes += len(lines)
            report.ignored_boxes_dropped += dropped
            report.other_class_boxes_dropped += other
            count += 1
        report.frames[split] = count
    paths = {s: f"images/{s}" for s in splits}
    if paths and "val" not in paths:  # ultralytics refuses a data.yaml without val: use test, else train
        paths["val"] = paths.get("test") or paths.get("train") or next(iter(paths.values()))
    data = {"path": str(out.resolve()), **paths, "channels": channels, "names": dict(enumerate(CLASSES))}
    write_text(out / "data.yaml", yaml.safe_dump(data, sort_keys=False))
    return report
