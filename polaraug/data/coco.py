"""COCO detection sources: ``instances*.json`` (``images``, ``annotations``, ``categories``) and their images.

Two layouts are found by :func:`coco_splits`:

- COCO's own: ``annotations/instances_<split>.json`` with images in ``<split>/`` or ``images/<split>/``
  (``train2017`` -> split ``train``);
- Roboflow's export: ``<split>/_annotations.coco.json`` with the images beside it.

Boxes are ``bbox = [x, y, width, height]`` in pixels; ``iscrowd`` boxes become ignore regions. Category names
go through the class map, then the canonical names and their synonyms (``person`` -> pedestrian); others
are dropped and counted, as are boxes with no area inside the image.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from polaraug.errors import excerpt, parse_reason
from polaraug.io.images import ImageReadError, image_size

from ._checks import checked_box, image_exists, safe_image_path
from .classmap import ClassMap, generic_fallback
from .errors import BoxDropped, DatasetError, SkipReport, handle
from .frame import Box, Frame


def split_name(stem: str) -> str:
    """``instances_train2017`` / ``train`` -> train (val, test alike); other names are kept."""
    s = stem.lower()
    for name in ("train", "val", "test"):
        if name in s:
            return name
    return stem


def coco_splits(root: Path) -> list[tuple[str, Path, Path]]:
    """(split, annotation file, image folder) of every COCO split under ``root``."""
    out = []
    for ann in sorted((root / "annotations").glob("instances*.json")):
        tag = ann.stem.removeprefix("instances_").removeprefix("instances")
        folder = next((f for f in (root / tag, root / "images" / tag, root / "images") if tag and f.is_dir()),
                      root / "images")
        out.append((split_name(tag or "train"), ann, folder))
    for ann in sorted(root.glob("*/_annotations.coco.json")):
        out.append((split_name(ann.parent.name), ann, ann.parent))
    return out


def read_coco(root: str | Path, class_map: ClassMap | None = None,
              skip_bad: SkipReport | None = None) -> Iterator[Frame]:
    """Frames of every split of a COCO source (see the module docstring).

    Raises:
        DatasetError: no annotation file, or a malformed one (the message names the file).
    """
    root = Path(root)
    splits = coco_splits(root)
    if not splits:
        raise DatasetError(root, "no COCO annotations (annotations/instances_*.json or */_annotations.coco.json)")
    report = skip_bad if skip_bad is not None else SkipReport()
    for split, ann, images in splits:
        yield from _read_split(ann, images, split, class_map or ClassMap(), report, skip_bad)


def _load(ann: Path) -> dict:
    try:
        doc = json.loads(ann.read_text(encoding="utf-8-sig"))  # -sig: tolerate a byte order mark
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise DatasetError(ann, f"cannot read COCO annotations: {parse_reason(e)}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
        raise DatasetError(ann, "not COCO detection annotations: no 'images' list")
    return doc


def _index(doc: dict, ann: Path) -> tuple[dict, dict]:
    """({category id: name}, {image id: annotations}); malformed entries fail naming the file."""
    cats, anns = doc.get("categories") or [], doc.get("annotations") or []
    if not isinstance(cats, list) or not isinstance(anns, list):
        raise DatasetError(ann, "'categories' and 'annotations' must be lists")
    try:
        names = {c.get("id"): str(c.get("name", "")) for c in cats if isinstance(c, dict)}
        per_image: dict = {}
        for a in anns:
            if isinstance(a, dict):
                per_image.setdefault(a.get("image_id"), []).append(a)
    except TypeError as e:  # a list or dict as an id
        raise DatasetError(ann, f"malformed category or annotation id: {e}") from None
    return names, per_image


def _read_split(ann: Path, images: Path, split: str, class_map: ClassMap, dropped: SkipReport,
                skip_bad: SkipReport | None) -> Iterator[Frame]:
    doc = _load(ann)
    names, per_image = _index(doc, ann)
    fallback = generic_fallback()
    seen: set[str] = set()  # an image listed twice would be written twice
    for img in doc["images"]:
        try:
            key = img.get("id") if isinstance(img, dict) else None
            if not isinstance(key, (int, str, type(None))):
                raise DatasetError(ann, f"image entry with a malformed 'id': {str(img)[:80]}")
            frame = _frame(img, per_image.get(key, []), names, images, ann, split, class_map, fallback, dropped)
            if frame.name in seen:
                raise DatasetError(ann, f"image {frame.name!r} is listed twice")
        except (DatasetError, ImageReadError) as e:
            handle(e, skip_bad)
            continue
        seen.add(frame.name)
        yield frame


def _frame(img, anns: list[dict], names: dict, images: Path, ann: Path, split: str, class_map: ClassMap,
           fallback: dict, dropped: SkipReport) -> Frame:
    if not isinstance(img, dict) or not isinstance(img.get("file_name"), str):
        raise DatasetError(ann, f"image entry without a 'file_name': {str(img)[:80]}")
    name = img["file_name"]
    path = safe_image_path(images, name, ann)
    if not image_exists(path, ann, f"image {excerpt(name)}"):
        raise DatasetError(ann, f"image {name!r}: {path} does not exist")
    width, height = img.get("width"), img.get("height")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (width, height)):
        width, height = image_size(path)  # no usable size in the annotations: the image header's
    boxes = []
    for a in anns:
        cid = a.get("category_id")
        label = names.get(cid, f"category {cid}") if isinstance(cid, (int, str)) else f"category {cid!r}"
        mapped = class_map.resolve(label, fallback)
        if mapped is False:
            dropped.drop(f"unknown class {label!r}")
            continue
        if mapped is None:
            continue  # mapped to drop
        bbox = a.get("bbox")
        if not isinstance(bbox, list) or len(bbox) != 4:
            raise DatasetError(ann, f"image {name!r}, annotation {a.get('id')}: bbox must be [x, y, w, h]")
        try:
            x, y, w, h = (float(v) for v in bbox)
            x1, y1, x2, y2 = checked_box((x, y, x + w, y + h), width, height, ann,
                                         f"image {name!r}, annotation {a.get('id')}")
        except BoxDropped as e:
            dropped.drop(e.reason)
            continue
        except (TypeError, ValueError):
            raise DatasetError(ann, f"image {name!r}, annotation {a.get('id')}: non-numeric bbox {bbox}") from None
        cls, ignore = mapped
        boxes.append(Box(x1, y1, x2, y2, cls, ignore=ignore or bool(a.get("iscrowd")),
                         attributes={"source_class": label}))
    return Frame(name, path, boxes, width, height, split)
