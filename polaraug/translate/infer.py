"""Full-resolution inference: pad (reflect) to the network's multiple, translate, crop back. Never resizes."""

from __future__ import annotations

import numpy as np
import torch

from polaraug.nn import pad_to_multiple
from polaraug.physics import full_scale

from .model import Translator


def rgb_to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """Args: rgb (H, W, 3) uint8/uint16, or float in [0, 1]. Returns: (1, 3, H, W) float32 in [-1, 1]."""
    top = full_scale(rgb.dtype)
    x = torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32) / np.float32(top))
    return x.permute(2, 0, 1)[None] * 2 - 1


@torch.no_grad()
def translate_batch(model: Translator, x: torch.Tensor) -> torch.Tensor:
    """Translate a batch at its own size.

    Args:
        model: a translator (or any module with ``translate``).
        x: (B, 3, H, W) in [-1, 1] on the model's device.

    Returns:
        (B, 4, H, W) intensities in [0, 1] (reflect padding to the network's multiple, cropped back).
    """
    h, w = x.shape[-2:]
    xp = pad_to_multiple(x)
    # bf16 on CUDA for the networks; the projection (project mode) runs in float32 regardless.
    with torch.autocast(device_type=x.device.type, dtype=torch.bfloat16, enabled=x.device.type == "cuda"):
        out = model.translate(xp)
    return ((out.float()[..., :h, :w] + 1) / 2)


def translate_image(model: Translator, rgb: np.ndarray) -> np.ndarray:
    """Args: rgb (H, W, 3). Returns: (H, W, 4) float32 intensities in [0, 1] (I0, I45, I90, I135)."""
    dev = next(model.parameters()).device
    y = translate_batch(model, rgb_to_tensor(rgb).to(dev))
    return y[0].permute(1, 2, 0).cpu().numpy()
