"""KITTI label_2 writer: one text file per frame, 15 fields per object.

Classes KITTI lacks (bus, motorcycle, bicycle, traffic light, traffic sign) and ignore regions are written
as DontCare, which KITTI's evaluation treats as regions to ignore. 3D fields are KITTI's "unknown" values.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from polaraug.io.atomic import write_text

from .. import classes
from ..frame import Box, Frame


def kitti_type(box: Box) -> str:
    """KITTI type of a box: its original type if it maps to the same class (Van, Person_sitting survive a
    round trip), else the class's KITTI type, else DontCare."""
    if box.ignore or box.cls not in classes.TO_KITTI:
        return "DontCare"
    original = box.attributes.get("kitti_type")
    if original in classes.KITTI and classes.KITTI[original][0] == box.cls:
        return original
    return classes.TO_KITTI[box.cls]


def label_line(box: Box) -> str:
    kind = kitti_type(box)
    if kind == "DontCare":
        trunc, occ = -1.0, -1
    else:  # KITTI's own levels when the box came from KITTI, else the flags
        trunc = float(box.attributes.get("kitti_truncation", 1.0 if box.truncated else 0.0))
        occ = int(box.attributes.get("kitti_occlusion", 1 if box.occluded else 0))
    return (f"{kind} {trunc:.2f} {occ} -10 {box.x1:.2f} {box.y1:.2f} {box.x2:.2f} {box.y2:.2f} "
            "-1 -1 -1 -1000 -1000 -1000 -10")


def write_kitti_labels(frames: Iterable[Frame], label_dir: str | Path) -> int:
    """Write ``label_dir/<stem>.txt`` for every frame (atomically); returns the number written."""
    label_dir = Path(label_dir)
    n = 0
    for frame in frames:
        write_text(label_dir / f"{Path(frame.name).stem}.txt", "".join(label_line(b) + "\n" for b in frame.boxes))
        n += 1
    return n
