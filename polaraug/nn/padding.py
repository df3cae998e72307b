"""Padding images to what the generators accept: sizes that are multiples of 4 (two stride-2
downsamplings) and at least 8 (the residual blocks reflect-pad by 1 at a quarter of the size)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

MULTIPLE = 4
MIN_SIZE = 8


def pad_to_multiple(x: torch.Tensor) -> torch.Tensor:
    """Pad at the bottom/right to multiples of ``MULTIPLE`` and at least ``MIN_SIZE``.

    Args:
        x: (B, C, H, W) images.

    Returns:
        (B, C, H', W') with H' >= H, W' >= W; reflect padding, replicate when the image is too small to
        reflect. Crop back with ``[..., :H, :W]``.
    """
    h, w = x.shape[-2:]
    ph, pw = max((-h) % MULTIPLE, MIN_SIZE - h), max((-w) % MULTIPLE, MIN_SIZE - w)
    mode = "reflect" if min(h, w) > max(ph, pw) else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode) if ph or pw else x
