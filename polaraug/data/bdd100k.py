"""BDD100K reader: images/100k/{split}/*.jpg with detection labels in any of BDD100K's three formats.

- det_20: ``labels/det_20/det_{split}.json``, a bare list of frames or Scalabel's ``{"frames": [...]}``;
- 2018: ``labels/bdd100k_labels_images_{split}.json`` (poly2d-only labels, e.g. drivable area and
  lanes, are skipped);
- per-image: ``labels/100k/{split}/*.json``, each ``{"name", "attributes", "frames": [{"objects": [...]}]}``.

Frames are streamed (the 70k-frame det_train.json is never held whole). As in BDD100K's tools, names are
mapped (bike -> bicycle, ...), "other person"/"other vehicle"/"trailer" and crowd boxes become ignore
regions, frames without a ``labels`` key have no boxes, and images without a label entry are not frames
(``unlabeled_images`` lists them). Box2d corners are inclusive pixel indices (Scalabel's COCO export uses
w = x2 - x1 + 1); they are stored as continuous coordinates (x2 + 1, y2 + 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from polaraug.errors import excerpt, parse_reason

from . import classes
from ._checks import checked_box, image_exists, safe_image_path
from .classmap import ClassMap
from .errors import BoxDropped, DatasetError, SkipReport, handle
from .frame import Box, Frame
from .jsonstream import iter_json_array

IMAGE_SIZE = (1280, 720)  # every BDD100K 100k image
SPLITS = ("train", "val", "test")


def image_dir(root: Path, split: str) -> Path:
    return Path(root) / "images" / "100k" / split


def label_candidates(root: Path, split: str) -> tuple[Path, Path, Path]:
    """Where the labels of ``split`` may be: the det_20 file, the 2018 file, the per-image folder."""
    root = Path(root)
    return (root / "labels" / "det_20" / f"det_{split}.json", root / "labels" / f"bdd100k_labels_images_{split}.json",
            root / "labels" / "100k" / split)


def find_labels(root: Path, split: str) -> Path | None:
    """The label file or folder of ``split``: det_20, then the 2018 file, then per-image JSON; None if absent."""
    return next((cand for cand in label_candidates(root, split) if cand.exists()), None)


def read_bdd100k(root: str | Path, split: str = "train", *, labels: str | Path | None = None,
                 skip_bad: SkipReport | None = None, image_size: tuple[int, int] = IMAGE_SIZE,
                 images: str | Path | None = None, check_images: bool = True,
                 class_map: ClassMap | None = None) -> Iterator[Frame]:
    """Yield the frames of one split. ``labels`` overrides the label file/folder and ``images`` the image
    folder; the test split (no labels) yields every image with no boxes. A frame's ``size`` entry
    (Scalabel) overrides ``image_size``. With ``skip_bad`` bad frames are recorded there and skipped.
    ``check_images=False`` skips the per-frame existence check (label-only work on a labels download).

    Args:
        root: the BDD100K folder (images/100k/SPLIT, labels/).
        split: train, val or test.
        labels: a label file or per-image label folder instead of the one found under ``root``.
        skip_bad: records bad frames and skips them instead of raising.
        image_size: (width, height) of frames without a ``size`` entry.
        images: the image folder instead of ``root/images/100k/SPLIT``.
        check_images: check that every labelled image exists.
        class_map: renames categories before BDD100K's own table (see ``classmap.py``).

    Returns:
        An iterator over the split's frames.

    Raises:
        DatasetError: malformed labels or missing files; the message names the file (and line).
    """
    root = Path(root)
    images = Path(images) if images is not None else image_dir(root, split)
    if check_images and not images.is_dir():
        raise DatasetError(images, "no such folder: expected BDD100K's images/100k/{train,val,test}")
    src = Path(labels) if labels is not None else find_labels(root, split)
    if src is None:
        if split != "test":
            looked = ", ".join(str(p.relative_to(root)) for p in label_candidates(root, split))
            raise DatasetError(root / "labels", f"no labels for split {split!r} (looked for {looked})")
        for path in sorted(images.glob("*.jpg")):
            yield Frame(path.name, path, [], *image_size, split=split)
        return
    records = _per_image_records(src) if src.is_dir() else ((r, None) for r in iter_json_array(src, "frames"))
    seen: set[str] = set()  # a frame listed twice would be written twice, its labels doubled
    for record, source in records:
        try:
            if isinstance(record, DatasetError):
                raise record
            frame = _frame(record, images, source or src, split, image_size, check_image=check_images,
                           class_map=class_map, dropped=skip_bad)
            if frame.name in seen:
                raise DatasetError(source or src, f"frame {frame.name!r} is listed twice")
        except DatasetError as e:
            handle(e, skip_bad)
            continue
        seen.add(frame.name)
        yield frame


def unlabeled_images(root: str | Path, split: str, frames: Iterable[Frame]) -> list[Path]:
    """Images on disk that have no label entry (BDD100K's tools ignore them; polaraug reports them)."""
    named = {f.name for f in frames}
    return sorted(p for p in image_dir(Path(root), split).glob("*.jpg") if p.name not in named)


def _per_image_records(folder: Path) -> Iterator[tuple[dict | DatasetError, Path]]:
    """Old per-image files as det_20-like records (objects of the first frame become the labels); a bad
    file is yielded as its DatasetError so that skip_bad can pass over it."""
    import json

    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise DatasetError(folder, "no per-image label files (*.json)")
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
            if not isinstance(data, dict):
                raise DatasetError(path, "expected a JSON object with 'name' and 'frames'")
            frames = data.get("frames") or [{}]
            if not isinstance(frames, list) or not isinstance(frames[0], dict):
                raise DatasetError(path, "'frames' must be a list of objects")
            name = data.get("name", path.stem)
            if not isinstance(name, str):
                raise DatasetError(path, f"'name' must be a string, got {name!r}")
            name = name if name.endswith(".jpg") else f"{name}.jpg"
            yield {"name": name, "attributes": data.get("attributes") or {},
                   "labels": frames[0].get("objects") or []}, path
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
            yield DatasetError(path, f"cannot read per-image label file: {parse_reason(e)}"), path
        except DatasetError as e:
            yield e, path


_FLAG_KEYS = frozenset({"occluded", "Occluded", "truncated", "Truncated"})


def _flag(attrs: dict, key: str, capitalised: str) -> bool:
    """BDD100K spells attribute keys both ways (``occluded`` and ``Occluded``)."""
    value = attrs.get(key)
    return bool(attrs.get(capitalised, False) if value is None else value)


def _size(record: dict, default: tuple[int, int], source: Path) -> tuple[int, int]:
    size = record.get("size")
    if size is None:
        return default
    try:
        width, height = int(size["width"]), int(size["height"])
    except (KeyError, TypeError, ValueError, OverflowError):  # OverflowError: int(float("inf"))
        width = height = 0
    if width <= 0 or height <= 0:
        raise DatasetError(source, f"frame {record['name']!r}: 'size' needs positive integer width and height, "
                                   f"got {str(size)[:80]}")
    return width, height


def _frame(record: Any, images: Path, source: Path, split: str, size: tuple[int, int], *,
           check_image: bool = True, class_map: ClassMap | None = None,
           dropped: SkipReport | None = None) -> Frame:
    dropped = dropped if dropped is not None else SkipReport()
    if not isinstance(record, dict) or not isinstance(record.get("name"), str):
        raise DatasetError(source, f"frame entry without a 'name' string: {str(record)[:80]}")
    if not isinstance(record.get("labels") or [], list) or not isinstance(record.get("attributes") or {}, dict):
        raise DatasetError(source, f"frame {record['name']!r}: 'labels' must be a list and 'attributes' an object")
    name = record["name"]
    path = safe_image_path(images, name, source)
    if check_image and not image_exists(path, source, f"frame {excerpt(name)}"):
        raise DatasetError(source, f"frame {name!r}: image {path} does not exist")
    attrs = record.get("attributes") or {}
    width, height = _size(record, size, source)
    boxes: list[Box] = []
    for label in record.get("labels") or []:
        box2d = label.get("box2d") if isinstance(label, dict) else None
        if box2d is None:
            continue  # poly2d-only (drivable area, lanes) or other non-box labels
        category = str(label.get("category", ""))
        mapped = (class_map or ClassMap()).resolve(category, classes.BDD100K)  # map, then the table (any case)
        if mapped is False:
            dropped.drop(f"unknown class {category!r}")
            continue
        if mapped is None:
            continue  # mapped to drop
        cls, ignore = mapped
        try:
            coords = (box2d["x1"], box2d["y1"], box2d["x2"] + 1, box2d["y2"] + 1)
        except (KeyError, TypeError):
            raise DatasetError(source, f"frame {name!r}, label {label.get('id', '?')}: box2d needs numbers "
                                       f"x1, y1, x2, y2, got {box2d!r}") from None
        try:
            x1, y1, x2, y2 = checked_box(coords, width, height, source,
                                         f"frame {name!r}, label {label.get('id')} (box2d {box2d})")
        except BoxDropped as e:
            dropped.drop(e.reason)
            continue
        la = label.get("attributes") or {}
        if not isinstance(la, dict):
            raise DatasetError(source, f"frame {name!r}, label {label.get('id', '?')}: 'attributes' must be an "
                                       f"object, got {str(la)[:80]}")
        boxes.append(Box(x1, y1, x2, y2, cls, ignore or _flag(la, "crowd", "Crowd"),
                         _flag(la, "occluded", "Occluded"), _flag(la, "truncated", "Truncated"),
                         {k: v for k, v in la.items() if k not in _FLAG_KEYS}))
    return Frame(name, path, boxes, width, height, split, *_scene_attributes(attrs, name, source))


def _scene_attributes(attrs: dict, name: str, source: Path) -> tuple[str | None, str | None, str | None]:
    """A frame's weather, time of day and scene (strings, or None when absent)."""
    values = tuple(attrs.get(key) for key in ("weather", "timeofday", "scene"))
    for key, value in zip(("weather", "timeofday", "scene"), values, strict=True):
        if value is not None and not isinstance(value, str):
            raise DatasetError(source, f"frame {name!r}: attribute {key!r} must be a string, got {str(value)[:80]}")
    return values
