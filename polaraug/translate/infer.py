"""Full-resolution inference: pad (reflect) to the network's multiple, translate, crop back. Never resizes."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from polaraug.physics import full_scale

from .model import ConstrainedCycleGAN

MULTIPLE = 4  # two stride-2 downsamplings
MIN_SIZE = 8


def pad_to_multiple(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) padded at the bottom/right to multiples of MULTIPLE and at least MIN_SIZE (the residual
    blocks reflect-pad by 1 at a quarter of the size). Reflect padding, replicate when too small."""
    h, w = x.shape[-2:]
    ph, pw = max((-h) % MULTIPLE, MIN_SIZE - h), max((-w) % MULTIPLE, MIN_SIZE - w)
    mode = "reflect" if min(h, w) > max(ph, pw) else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode) if ph or pw else x


def rgb_to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8/uint16/float in [0, 1] -> (1, 3, H, W) float in [-1, 1]."""
    top = full_scale(rgb.dtype)
    x = torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32) / np.float32(top))
    return x.permute(2, 0, 1)[None] * 2 - 1


@torch.no_grad()
def translate_batch(model: ConstrainedCycleGAN, x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) in [-1, 1] -> (B, 4, H, W) intensities in [0, 1] at the same size (reflect padding)."""
    h, w = x.shape[-2:]
    xp = pad_to_multiple(x)
    # bf16 on CUDA for the networks; the projection (project mode) runs in float32 regardless.
    with torch.autocast(device_type=x.device.type, dtype=torch.bfloat16, enabled=x.device.type == "cuda"):
        out = model.translate(xp)
    return ((out.float()[..., :h, :w] + 1) / 2)


def translate_image(model: ConstrainedCycleGAN, rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB -> (H, W, 4) float32 intensities in [0, 1] (I0, I45, I90, I135)."""
    dev = next(model.parameters()).device
    y = translate_batch(model, rgb_to_tensor(rgb).to(dev))
    return y[0].permute(1, 2, 0).cpu().numpy()
