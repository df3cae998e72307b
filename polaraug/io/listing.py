"""Listing the image files of a folder: one function, with every choice explicit.

Kinds of image files (by suffix, case-insensitive):

- ``rgb``: colour photographs as datasets ship them (``.jpg .jpeg .png .bmp``);
- ``readable``: everything :func:`polaraug.io.images.read_image` reads (adds ``.tif .tiff .npy``);
- ``any``: every file, whatever its suffix.

Hidden entries (a name starting with ``.``) are skipped by default at any depth below the root: they are
polaraug's own bookkeeping folders (``.synth``, ``.translate``) and the temporary files of interrupted
atomic writes (``.NAME.xxxx.tmp.png``), never frames.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from polaraug.errors import InputError

from .images import READABLE

RGB_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
IMAGE_KINDS: dict[str, tuple[str, ...] | None] = {"rgb": RGB_SUFFIXES, "readable": READABLE, "any": None}


def image_suffixes(kinds: str | Iterable[str]) -> tuple[str, ...] | None:
    """Suffixes of the given kinds of image files.

    Args:
        kinds: a kind name (``rgb``, ``readable``, ``any``) or several of them.

    Returns:
        The union of their lower-case suffixes, in first-seen order; None when ``any`` is among them
        (every suffix matches).
    """
    names = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    if not names:
        raise ValueError("list_images needs at least one image kind")
    out: list[str] = []
    for name in names:
        if name not in IMAGE_KINDS:
            raise ValueError(f"unknown image kind {name!r}; choose from {sorted(IMAGE_KINDS)}")
        suffixes = IMAGE_KINDS[name]
        if suffixes is None:
            return None
        out += [s for s in suffixes if s not in out]
    return tuple(out)


def list_images(root: str | os.PathLike, kinds: str | Iterable[str] = "rgb", *, recursive: bool = True,
                skip_hidden: bool = True) -> list[Path]:
    """The image files below ``root``, sorted by path.

    Only regular files (or links to them) are listed; folders whose name looks like an image are not.

    Args:
        root: folder to list; must exist.
        kinds: which files count as images: ``rgb``, ``readable`` or ``any`` (see the module docstring),
            or several kinds.
        recursive: list every sub-folder too (True) or ``root``'s own files only (False).
        skip_hidden: leave out files and folders whose name starts with ``.`` (bookkeeping folders such as
            ``.synth``, temporary files of atomic writes), at any depth below ``root``.

    Returns:
        Sorted paths (each ``root / relative``); empty when the folder holds no such image.

    Raises:
        InputError: ``root`` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: no such folder")
    suffixes = image_suffixes(kinds)
    candidates = root.rglob("*") if recursive else root.iterdir()
    found = []
    for p in candidates:
        if suffixes is not None and p.suffix.lower() not in suffixes:
            continue
        if skip_hidden and any(part.startswith(".") for part in p.relative_to(root).parts):
            continue
        if p.is_file():
            found.append(p)
    return sorted(found)
