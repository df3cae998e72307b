"""Colour maps for polarimetric quantities, as polanalyser and the literature show them.

AoLP is shown as hue (0 -> red, π/3 -> green, 2π/3 -> blue, back to red at π); with DoLP as saturation
the hue fades to white where light is unpolarized. Inputs are numpy (H, W) maps; outputs (H, W, 3) uint8 RGB.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """h in [0, 1) of a turn, s and v in [0, 1] -> uint8 RGB via OpenCV's full-range HSV."""
    hsv = np.stack([h * 255.0, np.clip(s, 0, 1) * 255.0, np.clip(v, 0, 1) * 255.0], axis=-1)
    return cv2.cvtColor(np.round(hsv).astype(np.uint8), cv2.COLOR_HSV2RGB_FULL)


def aolp_rgb(aolp: np.ndarray) -> np.ndarray:
    """AoLP (H, W) in [0, π) -> hue wheel at full saturation and value."""
    h = np.mod(np.asarray(aolp, dtype=np.float32), math.pi) / math.pi
    one = np.ones_like(h)
    return _hsv_to_rgb(h, one, one)


def aolp_dolp_rgb(aolp: np.ndarray, dolp: np.ndarray, value: np.ndarray | None = None) -> np.ndarray:
    """AoLP as hue, DoLP (clipped to [0, 1]) as saturation, optional value map in [0, 1] (default 1)."""
    h = np.mod(np.asarray(aolp, dtype=np.float32), math.pi) / math.pi
    v = np.ones_like(h) if value is None else np.asarray(value, dtype=np.float32)
    return _hsv_to_rgb(h, np.asarray(dolp, dtype=np.float32), v)


def gray_rgb(x: np.ndarray, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """Scalar map (H, W) -> grey RGB, [lo, hi] mapped to [0, 255]."""
    g = np.clip((np.asarray(x, dtype=np.float32) - lo) / max(hi - lo, 1e-12), 0, 1)
    g8 = np.round(g * 255).astype(np.uint8)
    return np.repeat(g8[..., None], 3, axis=-1)


def signed_rgb(x: np.ndarray, scale: float | None = None) -> np.ndarray:
    """Signed map (H, W) -> diverging blue (negative) / white (0) / red (positive); scale = |x| at full colour."""
    x = np.asarray(x, dtype=np.float32)
    if scale is None:
        scale = float(np.percentile(np.abs(x), 99.5)) if x.size else 1.0
    t = np.clip(x / max(scale, 1e-12), -1, 1)
    pos, neg = np.clip(t, 0, 1), np.clip(-t, 0, 1)
    rgb = np.stack([1 - neg, 1 - pos - neg, 1 - pos], axis=-1)
    return np.round(rgb * 255).astype(np.uint8)
