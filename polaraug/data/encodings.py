"""Image encodings of polarimetric frames for detectors and augmentation (channels-last, values in
[0, 1] for float, the full range for integers).

- ``intensities``: (I0, I45, I90, I135), the camera's four channels.
- ``stokes``: (s0 / 2, (s1 + 1) / 2, (s2 + 1) / 2): Stokes of [0, 1] intensities mapped into [0, 1].
- ``i0-i45-i90``: three of the four channels; an ideal camera's I135 = I0 + I90 - I45.
- ``hsv``: (AoLP as hue, DoLP as saturation, s0 / 2 as value). The hue is periodic: it stores
  AoLP / π · P mod P with P = 1 for float images and P = 2**bits for integer ones (256 for uint8), so
  that rotations and mirrors are exact modular shifts.
"""

from __future__ import annotations

import math

import numpy as np

from polaraug.errors import ConfigError
from polaraug.physics import analyze, stokes_from_intensities

ENCODINGS = ("intensities", "stokes", "i0-i45-i90", "hsv")
CHANNELS = {"intensities": 4, "stokes": 3, "i0-i45-i90": 3, "hsv": 3}


def check_encoding(name: str) -> str:
    """Check an encoding name.

    Args:
        name: the name to check.

    Returns:
        ``name``, one of ``ENCODINGS``.

    Raises:
        ConfigError: an unknown encoding.
    """
    if name not in ENCODINGS:
        raise ConfigError(f"unknown encoding {name!r}; choose one of {ENCODINGS}")
    return name


def hue_period(dtype: np.dtype) -> float:
    """P of the hsv encoding's periodic hue.

    Args:
        dtype: the stored image's dtype.

    Returns:
        1.0 for floats, 2**bits for unsigned integers (256 for uint8).
    """
    dtype = np.dtype(dtype)
    return 1.0 if dtype.kind == "f" else float(np.iinfo(dtype).max + 1)


def encode(y: np.ndarray, a: np.ndarray, name: str) -> np.ndarray:
    """Encode intensities for a detector.

    Args:
        y: (H, W, 4) float intensities in [0, 1], channels (I0, I45, I90, I135).
        a: (4, 3) calibration matrix of the camera.
        name: one of ``ENCODINGS``.

    Returns:
        (H, W, C) float32 encoding in [0, 1], C = ``CHANNELS[name]``.
    """
    check_encoding(name)
    y = np.asarray(y, dtype=np.float32)
    if name == "intensities":
        return y
    if name == "i0-i45-i90":
        return y[..., :3].copy()
    if name == "stokes":
        s = stokes_from_intensities(y, a)
        return np.clip(np.stack([s[..., 0] / 2, (s[..., 1] + 1) / 2, (s[..., 2] + 1) / 2], -1), 0, 1)
    m = analyze(y, a)
    return np.stack([m.aolp / math.pi, np.clip(m.dolp, 0, 1), np.clip(m.stokes[..., 0] / 2, 0, 1)],
                    -1).astype(np.float32)


def to_dtype(x: np.ndarray, dtype: np.dtype, name: str = "intensities") -> np.ndarray:
    """Store a float encoding in ``dtype``.

    Integers are rounded and clipped, except the hsv hue, which is stored periodically as
    round(AoLP / π · P) mod P (P = 2**bits).

    Args:
        x: (H, W, C) float encoding in [0, 1].
        dtype: target dtype (float or unsigned integer).
        name: the encoding of ``x``.

    Returns:
        (H, W, C) array of ``dtype``.
    """
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return x.astype(dtype)
    top = float(np.iinfo(dtype).max)
    out = np.clip(np.round(x * top), 0, top)
    if check_encoding(name) == "hsv":
        period = hue_period(dtype)
        out[..., 0] = np.mod(np.round(x[..., 0] * period), period)
    return out.astype(dtype)
