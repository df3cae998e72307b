"""YOLO detection sources: ``data.yaml`` (``names``; ``train``/``val``/``test`` as folders or image lists,
relative to ``path`` or to the YAML) and one ``labels/.../NAME.txt`` per image (``class cx cy w h``,
normalised to [0, 1]), found by replacing the last ``images`` folder of an image's path with ``labels``.

Class names go through the class map, then the canonical names and their synonyms; others are dropped and
counted, as are boxes with no area inside the image. An image without a label file has no objects.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import yaml

from polaraug.errors import excerpt, parse_reason
from polaraug.io.images import ImageReadError, image_size
from polaraug.io.listing import list_images

from ._checks import checked_box
from .classmap import ClassMap, generic_fallback
from .errors import BoxDropped, DatasetError, SkipReport, handle
from .frame import Box, Frame

SPLITS = ("train", "val", "test")


def find_data_yaml(root: Path) -> Path | None:
    """``root/data.yaml`` (or ``data.yml``), if present."""
    return next((p for p in (root / "data.yaml", root / "data.yml") if p.is_file()), None)


def _names(doc: dict, path: Path) -> dict[int, str]:
    names = doc.get("names")
    if isinstance(names, list):
        return dict(enumerate(str(n) for n in names))
    if isinstance(names, dict):
        try:
            return {int(k): str(v) for k, v in names.items()}
        except (TypeError, ValueError, OverflowError):  # OverflowError: int(float("inf"))
            pass
    raise DatasetError(path, f"data.yaml needs 'names' as a list or an index: name mapping, got {names!r:.80}")


def _split_images(entry, base: Path, path: Path) -> list[Path]:
    """Images of one split entry: a folder, a .txt list of images, or a list of those."""
    out: list[Path] = []
    for item in entry if isinstance(entry, list) else [entry]:
        try:
            out += _split_item(str(item), base, path)
        except OSError as e:  # a name the file system refuses (too long, ...)
            raise DatasetError(path, f"split folder or list {str(item)[:80]!r}: {e.strerror or e}") from None
    return out


def _split_item(item: str, base: Path, path: Path) -> list[Path]:
    """Images of a split folder or .txt list named ``item`` (relative to ``base``)."""
    p = Path(item)
    p = p if p.is_absolute() else base / p
    if not p.exists() and item.startswith("../"):  # Roboflow's "../train/images", as ultralytics reads it
        p = base / item[3:]
    if p.is_dir():
        return list_images(p, "rgb", recursive=True)
    if p.suffix == ".txt" and p.is_file():
        lines = [line.strip() for line in _read_text(p).splitlines() if line.strip()]
        return [q if q.is_absolute() else base / q for q in map(Path, lines)]
    raise DatasetError(path, f"split folder or list {p} does not exist")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")  # -sig: a byte order mark is not part of a class id
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(path, f"cannot read: {parse_reason(e)}") from None


def label_path(image: Path) -> Path:
    """``.../images/.../NAME.ext`` -> ``.../labels/.../NAME.txt`` (the last ``images`` part replaced)."""
    parts = list(image.parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def read_yolo(root: str | Path, class_map: ClassMap | None = None,
              skip_bad: SkipReport | None = None) -> Iterator[Frame]:
    """Frames of every split ``data.yaml`` names (see the module docstring).

    Raises:
        DatasetError: no or malformed data.yaml, a missing split, a malformed label line.
    """
    root = Path(root).resolve()
    path = find_data_yaml(root)
    if path is None:
        raise DatasetError(root, "no data.yaml")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError) as e:
        raise DatasetError(path, f"cannot read: {parse_reason(e)}") from None
    if not isinstance(doc, dict):
        raise DatasetError(path, "data.yaml must be a mapping")
    names = _names(doc, path)
    if not isinstance(doc.get("path") or "", str):
        raise DatasetError(path, f"'path' must be a folder name, got {excerpt(doc['path'])}")
    base = Path(doc["path"]) if doc.get("path") else path.parent
    base = base if base.is_absolute() else path.parent / base
    dropped = skip_bad if skip_bad is not None else SkipReport()
    fallback, cmap = generic_fallback(), class_map or ClassMap()
    for split in SPLITS:
        if not doc.get(split):
            continue
        listed = _split_images(doc[split], base, path)
        common = Path(os.path.commonpath([str(p.parent) for p in listed])) if listed else base
        for image in listed:
            try:
                yield _frame(image, split, names, cmap, fallback, dropped, common)
            except (DatasetError, ImageReadError) as e:
                handle(e, skip_bad)


def _frame(image: Path, split: str, names: dict[int, str], cmap: ClassMap, fallback: dict, dropped: SkipReport,
           base: Path) -> Frame:
    """One image and its labels; its name is its path under ``base`` (the split's common folder)."""
    width, height = image_size(image)
    labels = label_path(image)
    boxes = []
    if labels.is_file():
        for n, line in enumerate(_read_text(labels).splitlines(), start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 5:
                raise DatasetError(labels, f"expected 'class cx cy w h', got {line.strip()!r}", n)
            try:
                k, cx, cy, w, h = int(fields[0]), *(float(v) for v in fields[1:])
            except ValueError:
                raise DatasetError(labels, f"non-numeric field in {line.strip()!r}", n) from None
            label = names.get(k, f"class {k}")
            mapped = cmap.resolve(label, fallback)
            if mapped is False:
                dropped.drop(f"unknown class {label!r}")
                continue
            if mapped is None:
                continue
            coords = ((cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height)
            try:
                x1, y1, x2, y2 = checked_box(coords, width, height, labels, f"{label} box", line=n)
            except BoxDropped as e:
                dropped.drop(e.reason)
                continue
            cls, ignore = mapped
            boxes.append(Box(x1, y1, x2, y2, cls, ignore=ignore, attributes={"source_class": label}))
    return Frame(image.relative_to(base).as_posix(), image, boxes, width, height, split)
