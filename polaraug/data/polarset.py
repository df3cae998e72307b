"""Polarimetric sets: polaraug's own layout (read and written) and the layouts cameras deliver (read).

polaraug layout (what ``synth`` and ``translate`` write, what ``validate`` and training read)::

    SET/manifest.json                   schema, camera (calibration), bit depth, splits, provenance
    SET/images/{split}/{stem}.png       4-channel PNG, channels (I0, I45, I90, I135), uint8 or uint16;
                                    10- and 12-bit sets hold values 0..2**bits-1 in uint16 (translate
                                    stores them shifted up with an sBIT chunk: polaraug.io.significant)
    SET/labels/det_{split}.json         boxes in BDD100K det_20 format, canonical classes

Also read (``open_polarimetric``): a folder of 4-channel images; per-angle files ``{stem}_{0,45,90,135}.png``
or sub-folders ``0/ 45/ 90/ 135/``; raw DoFP mosaics (single-channel images) with a camera that has a
``dofp_pattern`` (demosaiced on read). Per-angle RGB files (a colour polarization camera's
``{stem}_{0,45,90,135}.png``) are the ``colour-angle-suffix`` layout: each frame is read as four frames,
one per colour and one for the luminance mix (``physics.colour``), named ``STEM [R]`` ... ``STEM [luminance]``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import platform
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from polaraug.cameras import Camera, camera_from_dict
from polaraug.errors import InputError, parse_reason
from polaraug.io.atomic import write_text
from polaraug.io.capture import capture_from_array
from polaraug.io.images import ImageReadError, image_header, read_image, write_image
from polaraug.io.listing import list_images
from polaraug.physics.quantize import QUANTIZE_DEPTHS, quantize_admissible

from .bdd100k import read_bdd100k
from .errors import DatasetError
from .export.bdd100k import write_bdd100k_labels
from .frame import Frame

SCHEMA = "polaraug-polarset/1"
SPLIT_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
ANGLES = (0, 45, 90, 135)
CHANNELS = ("I0", "I45", "I90", "I135")


def provenance(created_by: str, **extra) -> dict:
    """Who wrote a set, when, and with which versions."""
    import torch

    from polaraug import __version__

    return {"created_by": created_by, "created": datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds"), "polaraug": __version__, "python": platform.python_version(),
        "numpy": np.__version__, "torch": torch.__version__, **extra}


@dataclass
class PolarSetWriter:
    """Writes frames into polaraug's layout; ``close()`` writes labels and the manifest (all atomic)."""

    root: Path
    camera: Camera
    bits: int = 16
    created_by: str = "polaraug"
    extra: dict = field(default_factory=dict)
    _frames: dict[str, list[Frame]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        # written frames are already corrected (or rendered): a reader must not divide them by the gain map
        self.camera = dataclasses.replace(self.camera, gain_map=None)
        self._a = self.camera.matrix(np.float64)

    def image_path(self, split: str, stem: str) -> Path:
        return self.root / "images" / split / f"{stem}.png"

    def add(self, frame: Frame, intensities: np.ndarray) -> Frame:
        """Encode (H, W, 4) float intensities admissibly to ``bits`` and record ``frame``'s labels."""
        path = write_image(self.image_path(frame.split, frame.stem),
                           quantize_admissible(intensities, self._a, self.bits))
        h, w = intensities.shape[:2]
        return self.register(Frame(f"{frame.stem}.png", path, frame.boxes, w, h, frame.split, frame.weather,
                                   frame.timeofday, frame.scene))

    def register(self, frame: Frame) -> Frame:
        """Record a frame whose image is already at ``image_path(frame.split, frame.stem)`` (parallel writers)."""
        self._frames.setdefault(frame.split, []).append(frame)
        return frame

    def close(self) -> Path:
        for split, frames in self._frames.items():
            write_bdd100k_labels(frames, self.root / "labels" / f"det_{split}.json")
        manifest = {"schema": SCHEMA, "channels": list(CHANNELS), "bit_depth": self.bits,
                    "camera": self.camera.to_dict(), "splits": {s: len(f) for s, f in self._frames.items()},
                    "provenance": provenance(self.created_by, **self.extra)}
        return write_text(self.root / "manifest.json", json.dumps(manifest, indent=2) + "\n")


@dataclass
class PolarSet:
    """A polaraug-layout set opened for reading."""

    root: Path
    camera: Camera
    bits: int
    splits: dict[str, int]
    manifest: dict

    def frames(self, split: str) -> Iterator[Frame]:
        """Frames of ``split`` with their labels (sizes from the label file)."""
        labels = self.root / "labels" / f"det_{split}.json"
        if not labels.is_file():
            raise DatasetError(labels, f"no labels for split {split!r}")
        yield from read_bdd100k(self.root, split, labels=labels, images=self.root / "images" / split)

    def load(self, frame: Frame) -> np.ndarray:
        """(H, W, 4) float32 intensities in [0, 1] of a frame, of the size its labels give."""
        img = read_image(frame.image)
        if img.ndim != 3 or img.shape[2] != 4:
            raise ImageReadError(f"{frame.image}: expected 4 channels, got shape {img.shape}")
        if frame.width is not None and frame.height is not None and img.shape[:2] != (frame.height, frame.width):
            raise ImageReadError(f"{frame.image}: the image is {img.shape[1]}x{img.shape[0]}, but labels/det_"
                                 f"{frame.split}.json says {frame.width}x{frame.height}")
        camera = dataclasses.replace(self.camera, bit_depth=self.bits)  # the set's depth, e.g. 12 in uint16
        return capture_from_array(img, camera, path=frame.image).intensities


def read_polarset(root: str | Path) -> PolarSet:
    """Open a polaraug-layout set; errors name manifest.json and the field."""
    root = Path(root)
    path = root / "manifest.json"
    if not path.is_file():
        raise DatasetError(path, "no manifest.json: not a polaraug polarimetric set")
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise DatasetError(path, f"cannot read manifest: {parse_reason(e)}") from None
    if not isinstance(m, dict) or m.get("schema") != SCHEMA:
        raise DatasetError(path, f"field 'schema' must be {SCHEMA!r}")
    if m.get("channels") != list(CHANNELS):
        raise DatasetError(path, f"field 'channels' must be {list(CHANNELS)}, got {m.get('channels')!r}")
    if m.get("bit_depth") not in QUANTIZE_DEPTHS:
        raise DatasetError(path, f"field 'bit_depth' must be one of {', '.join(map(str, QUANTIZE_DEPTHS))}, got "
                                 f"{m.get('bit_depth')!r}")
    splits = m.get("splits") or {}
    if not isinstance(splits, dict) or not all(
            isinstance(s, str) and SPLIT_NAME.fullmatch(s) and isinstance(n, int) and not isinstance(n, bool)
            and n >= 0 for s, n in splits.items()):
        raise DatasetError(path, f"field 'splits' must map split names (up to 64 letters, digits, '_', '-') to "
                                 f"frame counts, got {str(splits)[:80]}")
    camera = camera_from_dict(m.get("camera"), f"{path} (field 'camera')")
    # the manifest is the camera's file: a relative gain map is beside it, and errors name it
    return PolarSet(root, dataclasses.replace(camera, path=path), m["bit_depth"], dict(splits), m)


LAYOUTS = ("auto", "polaraug", "angle-folders", "angle-suffix", "colour-angle-suffix", "four-channel", "dofp")
COLOUR_PARTS = ("R", "G", "B", "luminance")


@dataclass(frozen=True)
class PolarImage:
    """One polarimetric frame in any layout: one file (4-channel or raw DoFP) or four per-angle files;
    ``colour`` picks one part of per-angle RGB files (an index into COLOUR_PARTS)."""

    name: str
    paths: tuple[Path, ...]
    colour: int | None = None

    def read(self) -> np.ndarray:
        """The frame as stored: (H, W, 4) from 4-channel or per-angle files, (H, W) for a raw mosaic; for
        a colour part, that colour's planes as stored, or the luminance mix as float32 in [0, 1]."""
        if self.colour is not None:
            return self._read_colour()
        if len(self.paths) == 1:
            return read_image(self.paths[0])
        planes = [read_image(p) for p in self.paths]
        for p, plane in zip(self.paths, planes, strict=True):
            if plane.ndim != 2 or plane.shape != planes[0].shape or plane.dtype != planes[0].dtype:
                raise ImageReadError(f"{p}: per-angle images must be single-channel and alike, got "
                                     f"{plane.shape} {plane.dtype} vs {planes[0].shape} {planes[0].dtype} "
                                     f"in {self.paths[0].name}")
        return np.stack(planes, axis=-1)

    def _read_colour(self) -> np.ndarray:
        from polaraug.physics.colour import LUMINANCE

        planes = [read_image(p) for p in self.paths]
        for p, plane in zip(self.paths, planes, strict=True):
            if plane.ndim != 3 or plane.shape[2] != 3 or plane.shape != planes[0].shape:
                raise ImageReadError(f"{p}: per-angle colour images must be RGB and alike, got {plane.shape} vs "
                                     f"{planes[0].shape} in {self.paths[0].name}")
        y = np.stack(planes, axis=-1)  # (H, W, 3 colours, 4 angles)
        if self.colour < 3:
            return np.ascontiguousarray(y[:, :, self.colour])
        # in the stored units and type (weights sum to 1): the camera's bit depth applies as to the colours
        lum = np.einsum("hwca,c->hwa", y.astype(np.float32), np.asarray(LUMINANCE, np.float32))
        return np.round(lum).astype(y.dtype) if y.dtype.kind in "ui" else lum


def _images(folder: Path) -> list[Path]:
    """Readable image files directly in ``folder`` (no sub-folders, no hidden or temporary files)."""
    return list_images(folder, "readable", recursive=False)


def scan_polarimetric(root: str | Path, layout: str = "auto") -> tuple[str, list[PolarImage]]:
    """Find the frames of a polarimetric folder. See the module docstring for the layouts.

    Args:
        root: the set's folder.
        layout: one of ``LAYOUTS``; ``auto`` guesses it (a manifest.json means polaraug's layout).

    Returns:
        (layout found, frames in name order).

    Raises:
        InputError: unknown ``layout``.
        DatasetError: no such folder, no frames, incomplete per-angle groups, or ``layout="polaraug"`` on a
            folder without manifest.json.
    """
    root = Path(root)
    if layout not in LAYOUTS:
        raise InputError(f"unknown layout {layout!r}; choose one of {LAYOUTS}")
    if not root.is_dir():
        raise DatasetError(root, "no such folder")
    if layout == "polaraug" and not (root / "manifest.json").is_file():
        raise DatasetError(root / "manifest.json", "no manifest.json: not a polaraug polarimetric set")
    if layout in ("auto", "polaraug") and (root / "manifest.json").is_file():
        frames = [PolarImage(f"{p.parent.name}/{p.name}", (p,)) for p in sorted((root / "images").glob("*/*.png"))]
        if not frames:
            raise DatasetError(root / "images", "no images in the polaraug set")
        return "polaraug", frames
    if layout in ("auto", "angle-folders") and all((root / str(a)).is_dir() for a in ANGLES):
        names = [p.name for p in _images(root / "0")]
        if not names:
            raise DatasetError(root / "0", "no images in the per-angle folders")
        missing = [f"{a}/{n}" for n in names for a in ANGLES if not (root / str(a) / n).is_file()]
        if missing:
            raise DatasetError(root, f"per-angle folders disagree: missing {missing[:5]}")
        return "angle-folders", [PolarImage(n, tuple(root / str(a) / n for a in ANGLES)) for n in names]
    files = _images(root)
    if not files:
        raise DatasetError(root, "no images found")
    groups = _angle_groups(files)
    complete = {p: g for p, g in groups.items() if all(q.is_file() for q in g)}
    if layout in ("angle-suffix", "colour-angle-suffix") or (layout == "auto" and groups):
        for p in groups:
            if p not in complete:
                raise DatasetError(p, f"per-angle files of {p.stem[:-2]!r} incomplete: need _0, _45, _90, _135")
        if not complete:
            raise DatasetError(root, "no per-angle files NAME_0, NAME_45, NAME_90, NAME_135")
        if layout == "colour-angle-suffix" or (layout == "auto" and _looks_colour(complete)):
            return "colour-angle-suffix", [PolarImage(f"{p.stem[:-2]} [{part}]", g, k)
                                           for p, g in complete.items() for k, part in enumerate(COLOUR_PARTS)]
        return "angle-suffix", [PolarImage(p.stem[:-2], g) for p, g in complete.items()]
    frames = [PolarImage(p.name, (p,)) for p in files]
    if layout == "auto":
        layout = "dofp" if frames[0].read().ndim == 2 else "four-channel"
    return layout, frames


_ANGLE_STEM = re.compile(r"(.+)_(0|45|90|135)")


def _angle_groups(files: list[Path]) -> dict[Path, tuple[Path, ...]]:
    """{NAME_0 file: (NAME_0, NAME_45, NAME_90, NAME_135)} of every NAME with at least two of its four
    per-angle files among ``files`` (a lone "scene_0.png" is no group; NAME_45 and NAME_90 without NAME_0 are
    an incomplete one, not two single-channel frames)."""
    found: dict[tuple[str, str], int] = {}
    for p in files:
        m = _ANGLE_STEM.fullmatch(p.stem)
        if m:
            found[(m.group(1), p.suffix)] = found.get((m.group(1), p.suffix), 0) + 1
    return {files[0].with_name(f"{base}_0{suffix}"): tuple(files[0].with_name(f"{base}_{a}{suffix}") for a in ANGLES)
            for (base, suffix), count in found.items() if count >= 2}


def _looks_colour(groups: dict[Path, tuple[Path, ...]]) -> bool:
    """Whether per-angle files are RGB: the first group whose first file has a readable header decides (a
    corrupt file is reported by validation, not here)."""
    for first in groups:
        try:
            return image_header(first)[2].startswith("RGB")
        except ImageReadError:  # unreadable or too large: try the next group
            continue
    return False


def stored_frame(frame: PolarImage, what: str) -> np.ndarray:
    """The frame's stored image, for repairs, which refuse float images and raw DoFP mosaics.

    Args:
        frame: the frame to read.
        what: the repair asking (e.g. ``--fix``), named in errors.

    Returns:
        (H, W, 4) integer image as stored.

    Raises:
        InputError: a float image or a raw (H, W) mosaic.
    """
    raw = frame.read()
    if raw.dtype.kind == "f":
        raise InputError(f"{frame.paths[0]}: {what} supports integer images")
    if raw.ndim == 2:
        raise InputError(f"{frame.paths[0]}: {what} cannot repair raw DoFP mosaics (re-demosaicing mixes repaired "
                         "neighbours); demosaic the set first")
    return raw


COMMIT_SUFFIX = ".polaraug-commit.json"  # journal of a per-angle frame being replaced


def write_frame(dest: list[Path], img: np.ndarray, bits: int | None = None) -> None:
    """Write a frame atomically in its layout, all files or none.

    A per-angle frame is four files: they are written to temporary files first, then a journal listing the
    renames is written (the commit point), the renames are done and the journal removed. A crash before the
    journal leaves the old frame whole (the temporaries are removed by :func:`finish_interrupted_writes`);
    a crash after it is rolled forward by the same function. Readers of a set call it first.

    Args:
        dest: one path (a 4-channel file) or four (per-angle files, in ``ANGLES`` order), e.g. the frame's
            ``paths`` mapped into an output folder.
        img: (H, W, 4) image, channels (I0, I45, I90, I135).
        bits: store ``bits``-bit values shifted up with an sBIT chunk (:func:`polaraug.io.images.write_image`);
            None: as they are.
    """
    if len(dest) == 1:
        write_image(dest[0], img, bits=bits)
        return
    base = Path(os.path.commonpath([str(Path(p).resolve().parent) for p in dest]))
    pending = []
    try:
        for i, p in enumerate(dest):
            tmp = p.with_name(f".{p.stem}.polaraug-new{p.suffix}")
            write_image(tmp, np.ascontiguousarray(img[..., i]), bits=bits)
            # names relative to the journal's folder: a later run may start from another working directory
            pending.append([os.path.relpath(Path(tmp).resolve(), base), os.path.relpath(Path(p).resolve(), base)])
        journal = base / f".{dest[0].stem}{COMMIT_SUFFIX}"
        write_text(journal, json.dumps(pending) + "\n")
    except BaseException:  # not committed (a full disk, say): the old frame stays whole; drop the new files
        for tmp, _ in pending:
            with contextlib.suppress(OSError):
                (base / tmp).unlink(missing_ok=True)
        raise
    _roll_forward(journal)


def _commit_rename(tmp: str, final: str) -> None:
    os.replace(tmp, final)


def _roll_forward(journal: Path) -> None:
    for tmp, final in json.loads(journal.read_text()):
        if (journal.parent / tmp).exists():
            _commit_rename(str(journal.parent / tmp), str(journal.parent / final))
    journal.unlink()


def finish_interrupted_writes(root: str | Path) -> int:
    """Complete the per-angle frame writes a crash interrupted under ``root``: committed ones (a journal
    exists) are rolled forward, uncommitted temporaries removed. Returns the number of frames completed."""
    root = Path(root)
    done = 0
    for journal in root.rglob(f".*{COMMIT_SUFFIX}"):
        _roll_forward(journal)
        done += 1
    for tmp in root.rglob(".*.polaraug-new.*"):
        tmp.unlink(missing_ok=True)
    return done
