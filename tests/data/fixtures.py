"""Writers of tiny datasets in the exact on-disk formats of BDD100K and KITTI (quirks included)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

BDD_FRAMES = [
    {
        "name": "a0000001-00000001.jpg",
        "attributes": {"weather": "rainy", "timeofday": "night", "scene": "city street"},
        "labels": [
            {"id": "1", "category": "car", "attributes": {"occluded": True, "truncated": False},
             "box2d": {"x1": 10.0, "y1": 20.0, "x2": 109.0, "y2": 69.0}},
            {"id": "2", "category": "person", "attributes": {"Occluded": False, "Truncated": True},
             "box2d": {"x1": 200.5, "y1": 100.0, "x2": 230.0, "y2": 180.0}},
            {"id": "3", "category": "other vehicle", "attributes": {}, "box2d": {"x1": 0, "y1": 0, "x2": 9, "y2": 9}},
            {"id": "4", "category": "bike", "attributes": {"crowd": True},
             "box2d": {"x1": 300, "y1": 300, "x2": 349, "y2": 339}},
            {"id": "5", "category": "drivable area", "poly2d": [{"vertices": [[0, 0], [5, 5]], "closed": True}]},
        ],
    },
    {"name": "a0000002-00000002.jpg", "attributes": {"weather": "clear", "timeofday": "daytime"}},  # no labels key
    {
        "name": "a0000003-00000003.jpg",
        "attributes": {},
        "labels": [
            {"id": "6", "category": "motor", "attributes": {}, "box2d": {"x1": 1200, "y1": 600, "x2": 1279, "y2": 719}},
            {"id": "7", "category": "van", "attributes": {}, "box2d": {"x1": 5, "y1": 5, "x2": 15, "y2": 15}},
            {"id": "8", "category": "trailer", "attributes": {}, "box2d": {"x1": 50, "y1": 50, "x2": 60, "y2": 60}},
        ],
    },
]


def write_jpg(path: Path, width: int = 1280, height: int = 720) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.zeros((height, width, 3), np.uint8))


def make_bdd100k(root: Path, fmt: str = "det_20", frames: list | None = None, split: str = "val",
                 extra_images: tuple[str, ...] = ()) -> Path:
    """BDD100K tree with ``frames`` as det_20 (bare list), det_20_wrapped (Scalabel), 2018 or per-image."""
    frames = BDD_FRAMES if frames is None else frames
    for f in frames:
        write_jpg(root / "images" / "100k" / split / f["name"])
    for name in extra_images:
        write_jpg(root / "images" / "100k" / split / name)
    labels = root / "labels"
    if fmt == "det_20":
        (labels / "det_20").mkdir(parents=True)
        (labels / "det_20" / f"det_{split}.json").write_text(json.dumps(frames, indent=1))
    elif fmt == "det_20_wrapped":
        (labels / "det_20").mkdir(parents=True)
        wrapped = {"frames": frames, "config": {"imageSize": {"width": 1280, "height": 720}}}
        (labels / "det_20" / f"det_{split}.json").write_text(json.dumps(wrapped))
    elif fmt == "2018":
        labels.mkdir(parents=True)
        legacy = [{**f, "timestamp": 10000} for f in frames]
        (labels / f"bdd100k_labels_images_{split}.json").write_text(json.dumps(legacy))
    elif fmt == "per_image":
        folder = labels / "100k" / split
        folder.mkdir(parents=True)
        for f in frames:
            stem = f["name"][:-4]
            record = {"name": stem, "attributes": f.get("attributes", {}),
                      "frames": [{"timestamp": 10000, "objects": f.get("labels", [])}]}
            (folder / f"{stem}.json").write_text(json.dumps(record))
    else:
        raise ValueError(fmt)
    return root


KITTI_LABELS = {
    "000000": [
        "Car 0.00 0 -1.58 587.01 173.33 614.12 200.12 1.65 1.67 3.64 -0.65 1.71 46.70 -1.59",
        "Pedestrian 0.00 0 -0.20 712.40 143.00 810.73 307.92 1.89 0.48 1.20 1.84 1.47 8.41 0.01",
        "DontCare -1 -1 -10 503.89 169.71 590.61 190.13 -1 -1 -1 -1000 -1000 -1000 -10",
    ],
    "000001": [
        "Van 0.50 2 1.85 387.63 181.54 423.81 203.12 1.67 1.87 3.69 -16.53 2.39 58.49 1.57 0.93",  # 16 fields
        "Cyclist 0.00 1 -1.0 100.0 150.0 140.0 220.0 1.7 0.6 1.8 -5.0 1.6 20.0 -1.2",
        "Misc 0.00 0 -1.0 10.0 10.0 20.0 20.0 1.0 1.0 1.0 1.0 1.0 1.0 0.0",
    ],
}
KITTI_SIZES = {"000000": (1242, 375), "000001": (1224, 370)}


def make_kitti(root: Path, labels: dict | None = None) -> Path:
    labels = KITTI_LABELS if labels is None else labels
    for stem, lines in labels.items():
        w, h = KITTI_SIZES.get(stem, (1242, 375))
        img = root / "training" / "image_2" / f"{stem}.png"
        img.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(img), np.zeros((h, w, 3), np.uint8))
        lab = root / "training" / "label_2" / f"{stem}.txt"
        lab.parent.mkdir(parents=True, exist_ok=True)
        lab.write_text("\n".join(lines) + "\n")
    return root
