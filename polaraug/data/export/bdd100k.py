"""BDD100K det_20 label file writer (a bare JSON list of frames, streamed, written atomically)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from polaraug.io.atomic import atomic_path

from ..frame import Box, Frame

# Ignore regions are written under the BDD100K category whose ignore mapping gives their class.
IGNORE_CATEGORY = {"pedestrian": "other person", "car": "other vehicle", "truck": "trailer"}


def _label(box: Box, index: int) -> dict | None:
    if box.cls is None:
        return None  # class-less ignore regions (KITTI DontCare) have no BDD100K category
    attrs = {**box.attributes, "occluded": box.occluded, "truncated": box.truncated}
    category = box.cls
    if box.ignore:
        if box.cls in IGNORE_CATEGORY:
            category = IGNORE_CATEGORY[box.cls]
        else:
            attrs["crowd"] = True
    # Scalabel corners are inclusive pixel indices.
    box2d = {"x1": box.x1, "y1": box.y1, "x2": box.x2 - 1, "y2": box.y2 - 1}
    return {"id": str(index), "category": category, "attributes": attrs, "box2d": box2d}


def frame_record(frame: Frame) -> dict:
    """One det_20 frame entry."""
    attrs = {k: v for k, v in (("weather", frame.weather), ("timeofday", frame.timeofday),
                                ("scene", frame.scene)) if v is not None}
    labels = [lab for i, b in enumerate(frame.boxes) if (lab := _label(b, i)) is not None]
    record: dict = {"name": frame.name, "attributes": attrs}
    if frame.width is not None and frame.height is not None:
        record["size"] = {"width": frame.width, "height": frame.height}  # Scalabel's optional frame size
    if labels:
        record["labels"] = labels
    return record


def write_bdd100k_labels(frames: Iterable[Frame], path: str | Path) -> int:
    """Write det_20 JSON for ``frames`` to ``path``; returns the number of frames written."""
    n = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write("[")
        for frame in frames:
            f.write(",\n" if n else "\n")
            json.dump(frame_record(frame), f)
            n += 1
        f.write("\n]\n")
    return n
