"""Which camera a command uses: the one place that decides it (on the data floor: it reads a set's manifest).

Order: an explicit camera (``--calibration``: a file or a built-in name), else the camera recorded in a
polaraug set's ``manifest.json`` (with the set's bit depth, e.g. 12 for 12-bit data in uint16), else a
default (the ideal camera for most commands), else an error asking for ``--calibration``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from polaraug.cameras import Camera, load_camera
from polaraug.errors import InputError

from .polarset import read_polarset


def manifest_camera(root: str | os.PathLike) -> Camera:
    """The camera of a polaraug-layout set, with the set's bit depth.

    Args:
        root: set folder holding ``manifest.json``.

    Returns:
        The manifest's camera, ``bit_depth`` replaced by the manifest's ``bit_depth``.
    """
    ps = read_polarset(root)
    return dataclasses.replace(ps.camera, bit_depth=ps.bits)


def resolve_camera(calibration: Camera | str | os.PathLike | None = None, polar: str | os.PathLike | None = None,
                   *, default: Camera | str | None = "ideal", missing: str | None = None) -> Camera:
    """The camera a command works with.

    Args:
        calibration: explicit camera: a :class:`Camera`, a calibration file or a built-in name. Used when
            given (an empty string counts as not given).
        polar: a polarimetric folder; when it holds ``manifest.json`` (polaraug layout) and no calibration
            is given, the manifest's camera with the set's bit depth. None: no manifest is looked at.
        default: camera when neither gives one: a :class:`Camera`, a file or built-in name; None: no
            default, raise instead.
        missing: message of the error raised when no camera is found (default: asks for --calibration for
            ``polar``).

    Returns:
        The camera.

    Raises:
        InputError: no camera found and ``default`` is None.
        CalibrationFileError: the calibration file or manifest camera is unreadable or invalid.
    """
    if calibration:
        return calibration if isinstance(calibration, Camera) else load_camera(calibration)
    if polar is not None and (Path(polar) / "manifest.json").is_file():
        return manifest_camera(polar)
    if default is not None:
        return default if isinstance(default, Camera) else load_camera(default)
    raise InputError(missing or f"{polar}: no manifest.json; pass --calibration for this polarimetric folder")
