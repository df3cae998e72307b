"""Canonical detection classes and the one table that maps dataset names onto them (CONVENTIONS.md).

Canonical classes are BDD100K's ten detection classes. Each source name maps to a canonical class and
an ignore flag: ignored boxes are kept as "don't care" regions (never positives, never penalised), the
way BDD100K's own tools treat "other person", "other vehicle" and "trailer" and KITTI treats DontCare.

| source  | name           | canonical     | ignore |
| ------- | -------------- | ------------- | ------ |
| BDD100K | pedestrian / person | pedestrian | no   |
| BDD100K | rider          | rider         | no     |
| BDD100K | car / van / caravan | car      | no     |
| BDD100K | truck          | truck         | no     |
| BDD100K | bus            | bus           | no     |
| BDD100K | train          | train         | no     |
| BDD100K | motorcycle / motor | motorcycle | no    |
| BDD100K | bicycle / bike | bicycle       | no     |
| BDD100K | traffic light  | traffic light | no     |
| BDD100K | traffic sign   | traffic sign  | no     |
| BDD100K | other person   | pedestrian    | yes    |
| BDD100K | other vehicle  | car           | yes    |
| BDD100K | trailer        | truck         | yes    |
| KITTI   | Car / Van      | car           | no     |
| KITTI   | Truck          | truck         | no     |
| KITTI   | Pedestrian / Person_sitting | pedestrian | no |
| KITTI   | Cyclist        | rider         | no     |
| KITTI   | Tram           | train         | no     |
| KITTI   | Misc           | (dropped)     |        |
| KITTI   | DontCare       | (region)      | yes    |

Names not in the table (BDD100K's drivable area, lanes; KITTI's Misc) carry no box of interest and are
skipped. KITTI DontCare regions have no class; they are stored with class ``None`` and ignore = True.
"""

from __future__ import annotations

CLASSES: tuple[str, ...] = (
    "pedestrian", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle", "traffic light", "traffic sign",
)
CLASS_ID = {name: i for i, name in enumerate(CLASSES)}

BDD100K: dict[str, tuple[str, bool]] = {
    **{name: (name, False) for name in CLASSES},
    "bike": ("bicycle", False),
    "motor": ("motorcycle", False),
    "person": ("pedestrian", False),
    "van": ("car", False),
    "caravan": ("car", False),
    "other person": ("pedestrian", True),
    "other vehicle": ("car", True),
    "trailer": ("truck", True),
}

KITTI: dict[str, tuple[str | None, bool]] = {
    "Car": ("car", False),
    "Van": ("car", False),
    "Truck": ("truck", False),
    "Pedestrian": ("pedestrian", False),
    "Person_sitting": ("pedestrian", False),
    "Cyclist": ("rider", False),
    "Tram": ("train", False),
    "DontCare": (None, True),
}
KITTI_DROPPED = frozenset({"Misc"})

# Writing KITTI labels: canonical class -> KITTI type (classes KITTI lacks are written as DontCare).
TO_KITTI = {"car": "Car", "truck": "Truck", "pedestrian": "Pedestrian", "rider": "Cyclist", "train": "Tram"}
