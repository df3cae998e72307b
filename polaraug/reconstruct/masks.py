"""Which pixels are known. Masks are explicit (1 = known), so a true zero intensity stays a known value
(the reference TensorFlow code infers the mask from non-zero values and loses such pixels).

Shapes: torch masks are (B, 1, H, W) float in {0, 1}; numpy masks (H, W) bool.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from polaraug.errors import InputError

MASK_KINDS = ("random", "grid")
DEFAULT_DENSITY = 0.005  # ~0.5 % of the pixels, as in Ruffino et al.


def random_mask(batch: int, h: int, w: int, density: float = DEFAULT_DENSITY,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Each pixel known independently with probability ``density``."""
    if not 0 < density <= 1:
        raise InputError(f"mask density must be in (0, 1], got {density}")
    return (torch.rand(batch, 1, h, w, generator=generator) < density).float()


def grid_mask(batch: int, h: int, w: int, density: float = DEFAULT_DENSITY,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """A regular lattice of known pixels, one per p x p cell with p = round(1/sqrt(density)) (DoFP-like:
    density 1/4 is one pixel per 2x2 super-pixel), at a random offset per image."""
    if not 0 < density <= 1:
        raise InputError(f"mask density must be in (0, 1], got {density}")
    p = max(1, round(1 / math.sqrt(density)))
    offsets = torch.randint(0, p, (batch, 2), generator=generator)
    yy, xx = torch.arange(h)[:, None], torch.arange(w)[None, :]
    m = ((yy[None] % p == offsets[:, 0, None, None]) & (xx[None] % p == offsets[:, 1, None, None]))
    return m[:, None].float()


def sample_masks(kind: str, batch: int, h: int, w: int, density: float = DEFAULT_DENSITY,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    if kind == "random":
        return random_mask(batch, h, w, density, generator)
    if kind == "grid":
        return grid_mask(batch, h, w, density, generator)
    raise InputError(f"mask kind must be one of {MASK_KINDS}, got {kind!r}")


def known_from_flagged(flagged: np.ndarray) -> np.ndarray:
    """Known pixels (H, W) bool of a frame whose validator-flagged pixels (saturated, dead, inadmissible)
    are to be rebuilt."""
    return ~np.asarray(flagged, dtype=bool)


def read_mask(path, shape: tuple[int, int]) -> np.ndarray:
    """A mask image (any non-zero = known) of size ``shape`` (H, W); errors name the file."""
    from polaraug.io.images import read_image

    m = read_image(path)
    if m.ndim == 3:
        m = m.max(axis=-1)
    if m.shape != shape:
        raise InputError(f"{path}: mask is {m.shape[1]}x{m.shape[0]}, the image is {shape[1]}x{shape[0]}")
    return m > 0
