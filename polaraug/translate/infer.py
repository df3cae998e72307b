"""Full-resolution inference: pad (reflect) to the network's multiple, translate, crop back. Never resizes.

Test-time averaging (:class:`Averaging`), off by default:

- *spin* N (cycle spinning, Coifman and Donoho 1995): translate the frame shifted by 0 .. N-1 pixels along
  each axis, shift each output back and average. The generator's two stride-2 stages make it equivariant to
  shifts of 4 pixels only, so its outputs carry a faint pattern of period 2 and 4 px fixed to the pixel grid
  (the checkerboard); averaging over the 4 x 4 phases cancels it exactly. N² forward passes.
- *mirror*: also translate the mirrored frame and mirror the output back, polarization included (AoLP ->
  -AoLP: s2 -> -s2, I45 <-> I135 for the ideal camera). Twice the passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from polaraug.nn import pad_to_multiple
from polaraug.physics import full_scale, mirror_intensities

from .model import Translator


def rgb_to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """Args: rgb (H, W, 3) uint8/uint16, or float in [0, 1]. Returns: (1, 3, H, W) float32 in [-1, 1]."""
    top = full_scale(rgb.dtype)
    x = torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32) / np.float32(top))
    return x.permute(2, 0, 1)[None] * 2 - 1


SPINS = (1, 2, 4)  # 4: every phase of the two stride-2 stages


@dataclass(frozen=True)
class Averaging:
    """Test-time averaging of a translation (the module docstring).

    Args:
        spin: pixel offsets per axis (1: none, 2: cancels the period-2 pattern, 4: the period-4 one too).
        mirror: also average with the mirrored frame's translation, mirrored back.
    """

    spin: int = 1
    mirror: bool = False

    def __post_init__(self):
        if self.spin not in SPINS:
            raise ValueError(f"spin must be one of {SPINS}, got {self.spin!r}")

    @property
    def passes(self) -> int:
        """Forward passes per frame."""
        return self.spin**2 * (2 if self.mirror else 1)

    @property
    def active(self) -> bool:
        return self.passes > 1

    def to_dict(self) -> dict:
        return {"spin": self.spin, "mirror": self.mirror}

    def describe(self) -> str:
        """E.g. "spin 4 and mirror, 32 passes a frame"."""
        what = " and ".join([f"spin {self.spin}"] * (self.spin > 1) + ["mirror"] * self.mirror) or "none"
        return f"{what}, {self.passes} pass{'es' if self.passes > 1 else ''} a frame"


NO_AVERAGING = Averaging()


@torch.no_grad()
def translate_batch(model: Translator, x: torch.Tensor, averaging: Averaging = NO_AVERAGING) -> torch.Tensor:
    """Translate a batch at its own size.

    Args:
        model: a translator (or any module with ``translate``; ``a``, its (4, 3) camera, for ``mirror``).
        x: (B, 3, H, W) in [-1, 1] on the model's device.
        averaging: test-time averaging (none by default).

    Returns:
        (B, 4, H, W) intensities in [0, 1] (reflect padding to the network's multiple, cropped back).
    """
    if not averaging.active:
        return _forward(model, x)
    total = _spun(model, x, averaging.spin)
    if averaging.mirror:  # the mirrored frame, spun the same way, its translation mirrored back
        total = total + mirror_intensities(_spun(model, x.flip(-1), averaging.spin).flip(-1), model.a, dim=1)
    return total / averaging.passes


def _spun(model: Translator, x: torch.Tensor, spin: int) -> torch.Tensor:
    """The sum over offsets (dy, dx) in [0, spin)² of the translation of ``x`` shifted by (dy, dx), shifted
    back: (B, 3, H, W) -> (B, 4, H, W)."""
    total = torch.zeros(())
    for dy in range(spin):
        for dx in range(spin):
            # reflect the first rows/columns in front, so that output pixel (dy + i, dx + j) is frame pixel (i, j)
            xs = F.pad(x, (dx, 0, dy, 0), mode="reflect" if min(x.shape[-2:]) > dx + dy else "replicate")
            total = total + _forward(model, xs)[..., dy:, dx:]
    return total


def _forward(model: Translator, x: torch.Tensor) -> torch.Tensor:
    """One forward pass: (B, 3, H, W) in [-1, 1] -> (B, 4, H, W) intensities in [0, 1]."""
    h, w = x.shape[-2:]
    xp = pad_to_multiple(x)
    # bf16 on CUDA for the networks; the projection (project mode) runs in float32 regardless.
    with torch.autocast(device_type=x.device.type, dtype=torch.bfloat16, enabled=x.device.type == "cuda"):
        out = model.translate(xp)
    return ((out.float()[..., :h, :w] + 1) / 2)


def translate_image(model: Translator, rgb: np.ndarray, averaging: Averaging = NO_AVERAGING) -> np.ndarray:
    """Args: rgb (H, W, 3); averaging: test-time averaging. Returns: (H, W, 4) float32 intensities in [0, 1]
    (I0, I45, I90, I135)."""
    dev = next(model.parameters()).device
    y = translate_batch(model, rgb_to_tensor(rgb).to(dev), averaging)
    return y[0].permute(1, 2, 0).cpu().numpy()
