"""User class maps (``--class-map FILE.yaml``): a source's class names onto polaraug's canonical classes.

A class map is a YAML mapping ``source name: target`` with target a canonical class (``classes.CLASSES``),
``ignore`` (a "don't care" region: never a positive, never penalised) or ``drop`` (the box is left out).
Names match case-insensitively. Every reader consults the map first and falls back on its own table
(BDD100K's and KITTI's in ``classes.py``; for COCO and YOLO sources, the canonical names and common synonyms
in ``SYNONYMS``); a name found in neither is dropped and counted.

Example::

    PEDESTRIAN: pedestrian
    ON_ROAD_OBSTACLE: ignore
    van: car
    animal: drop
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from polaraug.errors import ConfigError, InputError, excerpt, parse_reason

from .classes import CLASSES

IGNORE, DROP = "ignore", "drop"

# Names general-purpose detection sets use (COCO's among them) for the canonical classes.
SYNONYMS: dict[str, str] = {
    **{c: c for c in CLASSES},
    "person": "pedestrian", "people": "pedestrian", "person_sitting": "pedestrian",
    "cyclist": "rider", "van": "car", "tram": "train", "motorbike": "motorcycle", "motor": "motorcycle",
    "bike": "bicycle", "traffic_light": "traffic light", "traffic_sign": "traffic sign",
    "stop sign": "traffic sign",
}

# (canonical class or None, ignore) of a mapped box; None: drop it.
Mapped = tuple[str | None, bool] | None


@dataclass(frozen=True)
class ClassMap:
    """Source name (lower case) -> canonical class, ``ignore`` or ``drop``."""

    table: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> ClassMap:
        """Read a class map file.

        Raises:
            InputError: the file cannot be read or is not a mapping; ConfigError: a target that is not a
                canonical class, ``ignore`` or ``drop`` (the message names the file and the key).
        """
        path = Path(path)
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError) as e:
            raise InputError(f"{path}: cannot read the class map: {parse_reason(e)}") from None
        if not isinstance(doc, dict):
            raise InputError(f"{path}: a class map is a mapping 'source name: canonical class|ignore|drop'")
        table = {}
        for key, value in doc.items():
            target = str(value).strip().lower() if value is not None else ""
            if target not in CLASSES and target not in (IGNORE, DROP):
                raise ConfigError(f"{path}: {excerpt(key)}: {excerpt(value)} is not one of the canonical classes "
                                  f"({', '.join(CLASSES)}), 'ignore' or 'drop'")
            table[str(key).strip().lower()] = target
        return cls(table)

    def lookup(self, name: str) -> Mapped | bool:
        """The map's entry for ``name``: (class, ignore), None (drop), or False when the map lacks it."""
        target = self.table.get(name.strip().lower())
        if target is None:
            return False
        if target == DROP:
            return None
        return (None, True) if target == IGNORE else (target, False)

    def resolve(self, name: str, fallback: dict[str, tuple[str | None, bool]]) -> Mapped | bool:
        """The map's entry, else ``fallback``'s (exact name, then case-insensitive), else False (unknown)."""
        mapped = self.lookup(name)
        if mapped is not False:
            return mapped
        if name in fallback:
            return fallback[name]
        lower = {k.lower(): v for k, v in fallback.items()}
        return lower.get(name.strip().lower(), False)


def generic_fallback() -> dict[str, tuple[str | None, bool]]:
    """COCO/YOLO names without a class map: canonical names and SYNONYMS (lower case)."""
    return {k: (v, False) for k, v in SYNONYMS.items()}
