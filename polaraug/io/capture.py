"""Polarimetric captures: a raw DoFP mosaic or a four-channel image -> float intensities + saturation mask."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from polaraug.cameras import Camera
from polaraug.physics import demosaic, full_scale, to_float

from .images import ImageReadError, read_image


@dataclass
class Capture:
    """intensities: float32 (H, W, 4) in [0, 1], order I0, I45, I90, I135; saturated: bool (H, W)."""

    intensities: np.ndarray
    saturated: np.ndarray
    kind: str  # "dofp" or "four-channel"
    path: Path


def _top(img: np.ndarray, bit_depth: int | None, path: Path) -> float:
    """Largest valid value of ``img``: 1 for floats, else 2**bit_depth - 1 or the dtype's max."""
    if img.dtype.kind == "f":
        return 1.0
    if img.dtype.kind not in "ui":
        raise ImageReadError(f"{path}: unsupported pixel type {img.dtype}")
    top = full_scale(img.dtype, bit_depth)
    if top > full_scale(img.dtype):
        raise ImageReadError(f"{path}: camera says {bit_depth}-bit but the file holds {img.dtype} values")
    if img.size and float(img.max()) > top:
        raise ImageReadError(f"{path}: values up to {int(img.max())} exceed the camera's {bit_depth}-bit range")
    return top


def _flat_field(y: np.ndarray, camera: Camera, path: Path) -> np.ndarray:
    """``y`` divided by the camera's per-pixel gain map (``y`` itself without one)."""
    g = camera.pixel_gains()
    if g is None:
        return y
    if g.shape != y.shape:
        raise ImageReadError(f"{path}: shape {y.shape} does not match the gain map of camera '{camera.name}' "
                             f"{g.shape}")
    return (y / g).astype(np.float32)


def capture_from_array(img: np.ndarray, camera: Camera, method: str = "bilinear",
                       path: str | os.PathLike = "<array>") -> Capture:
    """Interpret ``img`` (H, W) raw mosaic or (H, W, 4) intensities as a capture of ``camera`` (divided by
    its per-pixel gain map when it has one: a flat-field correction on read)."""
    path = Path(path)
    top = _top(img, camera.bit_depth, path)
    if img.ndim == 2:
        if camera.dofp_pattern is None:
            raise ImageReadError(
                f"{path}: single-channel image, i.e. a raw DoFP mosaic, but camera '{camera.name}' has no "
                "dofp_pattern; pass a DoFP camera file (e.g. --calibration sony_imx250mzr)"
            )
        if min(img.shape) < 2:  # some channel would have no sample: demosaicing divides 0 by 0
            raise ImageReadError(f"{path}: a raw DoFP mosaic needs at least one 2x2 super-pixel, got shape {img.shape}")
        if method == "superpixel" and (img.shape[0] % 2 or img.shape[1] % 2):
            raise ImageReadError(f"{path}: superpixel demosaicing needs even sizes, got {img.shape}")
        sat_raw = (img >= top).astype(np.uint8)
        y = demosaic(_flat_field(to_float(img, camera.bit_depth), camera, path), camera.dofp_pattern, method)
        if method == "superpixel":
            sat = sat_raw.reshape(img.shape[0] // 2, 2, img.shape[1] // 2, 2).max(axis=(1, 3)) > 0
        else:  # an interpolated pixel is tainted if any sample of its 3x3 neighbourhood saturated
            sat = cv2.dilate(sat_raw, np.ones((3, 3), np.uint8)) > 0
        return Capture(np.ascontiguousarray(y, dtype=np.float32), sat, "dofp", path)
    if img.ndim == 3 and img.shape[2] == 4:
        sat = (img >= top).any(axis=2)
        y = _flat_field(to_float(img, camera.bit_depth).astype(np.float32, copy=False), camera, path)
        return Capture(y, sat, "four-channel", path)
    raise ImageReadError(
        f"{path}: shape {img.shape} is neither a raw DoFP mosaic (H, W) nor four polarizer channels (H, W, 4)"
        + ("; it looks like an RGB image" if img.ndim == 3 and img.shape[2] == 3 else "")
    )


def read_capture(path: str | os.PathLike, camera: Camera, method: str = "bilinear") -> Capture:
    """Read a capture file (raw mosaic or four-channel image) of ``camera``; errors name the file."""
    return capture_from_array(read_image(path), camera, method, path)
