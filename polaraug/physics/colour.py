"""Colour polarization: 12 channels, R, G and B behind each of the four polarizers.

Channel order (numpy, channels last): **colour-major**, ``(R0, R45, R90, R135, G0, ..., B135)``, so that
``y.reshape(..., 3, 4)`` gives each colour's four intensities in polaraug's order I0, I45, I90, I135 and
every mono function applies per colour. (Files store such a frame as four RGB images ``NAME_0``,
``NAME_45``, ``NAME_90``, ``NAME_135``; see ``polaraug.io.colour``.)

A colour DoFP sensor (Sony IMX250MYR class) puts a 2x2 polarizer super-pixel on each Bayer colour: a 4x4
pattern of (colour, angle) cells, given as strings such as ``"R90"``. :func:`demosaic_colour` fills the
twelve planes by normalised bilinear interpolation.

The polarizer model (the calibration matrix A, 4x3) is shared by the three colours. Stokes vectors are
linear in the intensities, so a non-negative mix of the colours (luminance) is a valid mono measurement.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from .stokes import stokes_from_intensities

COLOURS = ("R", "G", "B")
ANGLES = (0, 45, 90, 135)
LUMINANCE = (0.299, 0.587, 0.114)  # ITU-R BT.601 weights: a mono camera's response, roughly
_CELL = re.compile(r"^([RGB])(0|45|90|135)$")


def per_colour(y: np.ndarray) -> np.ndarray:
    """(..., 12) colour-major intensities -> (..., 3, 4): [colour][angle]."""
    if y.shape[-1] != 12:
        raise ValueError(f"colour polarization needs 12 channels (R, G, B x 4 angles), got {y.shape[-1]}")
    return y.reshape(*y.shape[:-1], 3, 4)


def colour_stokes(y: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Stokes vector of each colour: (..., 12) intensities, A (4, 3) -> (..., 3, 3): [colour][s0, s1, s2].

    >>> import numpy as np
    >>> from polaraug.physics import camera_matrix
    >>> y = np.array([1.0, 0.5, 0.0, 0.5] + [0.5] * 4 + [0.25] * 4, np.float32)  # R polarized at 0°, G, B not
    >>> colour_stokes(y, camera_matrix()).tolist()
    [[1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.5, 0.0, 0.0]]
    """
    return stokes_from_intensities(per_colour(np.asarray(y, np.float32)), a)


def to_mono(y: np.ndarray, weights: Sequence[float] = LUMINANCE) -> np.ndarray:
    """The four intensities a mono polarization camera of spectral response ``weights`` would record:
    (..., 12) -> (..., 4), ``sum_c w_c y_c``.

    Args:
        y: colour-major intensities (..., 12).
        weights: non-negative weight of R, G, B (need not sum to 1).

    Raises:
        ValueError: not three non-negative weights.
    """
    w = np.asarray(weights, np.float64)
    if w.shape != (3,) or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"three non-negative colour weights are needed, got {list(weights)}")
    return np.einsum("...ca,c->...a", per_colour(np.asarray(y)), w.astype(np.float32))


def colour_s0(y: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Total intensity s0 of each colour, (..., 12) -> (..., 3) RGB: what a camera without polarizers sees
    (s0 / 2 for the ideal camera is the mean of the four angle images)."""
    return colour_stokes(y, a)[..., 0]


def pattern_cells(pattern: Sequence[Sequence[str]]) -> np.ndarray:
    """A 4x4 colour DoFP pattern of cells like ``"R90"`` -> (4, 4) channel indices into the 12 channels.

    Raises:
        ValueError: not 4x4, a cell that is not colour + angle, or a (colour, angle) that no cell carries.
    """
    rows = [list(r) for r in pattern]
    if len(rows) != 4 or any(len(r) != 4 for r in rows):
        raise ValueError(f"a colour DoFP pattern is 4 rows of 4 cells, got {pattern!r}")
    idx = np.zeros((4, 4), np.int64)
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            m = _CELL.match(str(cell))
            if m is None:
                raise ValueError(f"pattern cell {cell!r} is not a colour (R, G, B) and an angle (0, 45, 90, 135)")
            idx[i, j] = 4 * COLOURS.index(m.group(1)) + ANGLES.index(int(m.group(2)))
    missing = sorted(set(range(12)) - set(idx.ravel().tolist()))
    if missing:
        names = [f"{COLOURS[k // 4]}{ANGLES[k % 4]}" for k in missing]
        raise ValueError(f"the pattern has no cell for {names}")
    return idx


def mosaic_colour(y: np.ndarray, pattern: Sequence[Sequence[str]]) -> np.ndarray:
    """(H, W, 12) intensities -> (H, W) raw mosaic as the sensor samples it (for tests and simulation)."""
    idx = pattern_cells(pattern)
    h, w = y.shape[:2]
    tiled = np.tile(idx, (-(-h // 4), -(-w // 4)))[:h, :w]
    return np.take_along_axis(y, tiled[..., None], axis=-1)[..., 0]


def demosaic_colour(raw: np.ndarray, pattern: Sequence[Sequence[str]]) -> np.ndarray:
    """(H, W) raw colour DoFP mosaic (float) -> (H, W, 12): every plane filled by normalised bilinear
    interpolation of its own samples (7x7 tent: each plane has a sample at least every 4 pixels)."""
    import cv2

    idx = pattern_cells(pattern)
    h, w = raw.shape
    tiled = np.tile(idx, (-(-h // 4), -(-w // 4)))[:h, :w]
    tent = np.outer(*(2 * [np.array([1, 2, 3, 4, 3, 2, 1], np.float32) / 4]))
    raw = raw.astype(np.float32)
    out = np.empty((h, w, 12), np.float32)
    for k in range(12):
        mask = (tiled == k).astype(np.float32)
        num = cv2.filter2D(raw * mask, -1, tent, borderType=cv2.BORDER_REFLECT)
        den = cv2.filter2D(mask, -1, tent, borderType=cv2.BORDER_REFLECT)
        out[..., k] = num / np.maximum(den, 1e-12)
    return out
