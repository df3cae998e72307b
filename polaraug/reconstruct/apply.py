"""Fill unknown pixels with a trained reconstruction model, keeping every known pixel exactly.

Shapes: images (H, W, C) as stored (uint8/uint16 or float in [0, 1]); known masks (H, W) bool.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from polaraug.cameras import Camera
from polaraug.physics import full_scale
from polaraug.physics.quantize import quantize_admissible
from polaraug.translate.infer import pad_to_multiple

from .model import PixelConditionedGAN, constraint_mse


@torch.no_grad()
def fill(model: PixelConditionedGAN, y: np.ndarray, known: np.ndarray, seed: int = 0) -> tuple[np.ndarray, float]:
    """(H, W, C) float in [0, 1] + known (H, W) -> (completed image with known pixels copied exactly,
    the model's MSE on the known pixels before copying, [0, 1] units)."""
    dev = next(model.parameters()).device
    h, w = known.shape
    x = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)).permute(2, 0, 1)[None].to(dev) * 2 - 1
    m = torch.from_numpy(np.ascontiguousarray(known, dtype=np.float32))[None, None].to(dev)
    gen = torch.Generator().manual_seed(seed)
    xp, mp = pad_to_multiple(x), pad_to_multiple(m)
    out = model.complete(xp, mp, gen, keep_known=False)[..., :h, :w]
    mse = float(constraint_mse(out, x, m))
    filled = ((out[0].permute(1, 2, 0).cpu().numpy() + 1) / 2).clip(0, 1)
    return np.where(known[..., None], y, filled.astype(y.dtype)), mse  # known values untouched, in y's dtype


def fill_stored(model: PixelConditionedGAN, raw: np.ndarray, known: np.ndarray, camera: Camera | None = None,
                seed: int = 0) -> tuple[np.ndarray, float]:
    """``fill`` on a stored image: integer pixels are decoded and only the filled ones re-encoded, so known
    pixels keep their exact stored values (polarimetric fills are quantized admissibly)."""
    if raw.dtype.kind == "f":
        return fill(model, raw, known, seed)
    # The image's own depth: a camera's bit depth applies only if the dtype can hold it (12-bit in uint16)
    container = 8 * raw.dtype.itemsize
    cam_bits = camera.bit_depth if camera is not None and camera.bit_depth else None
    bits = cam_bits if cam_bits is not None and cam_bits <= container else container
    top = full_scale(raw.dtype, bits)
    y = raw.astype(np.float32) / np.float32(top)
    filled, mse = fill(model, y, known, seed)
    out = raw.copy()
    holes = filled[~known]  # (N, C): only these are encoded; known pixels may be anything, even inadmissible
    if camera is not None and raw.shape[-1] == 4:
        out[~known] = quantize_admissible(holes, camera.matrix(np.float64), bits)
    else:
        out[~known] = np.round(holes * top).astype(raw.dtype)
    return out, mse


@dataclass
class ApplyReport:
    frames: int = 0
    filled_pixels: int = 0
    known_mse: list[float] = field(default_factory=list)  # per frame, [0, 1] units

    def lines(self) -> list[str]:
        mean = float(np.mean(self.known_mse)) if self.known_mse else float("nan")
        return [f"frames {self.frames}, filled pixels {self.filled_pixels}",
                f"model error on known pixels (MSE, [0, 1] units, before they are copied back): {mean:.6f}"]



def reconstruct_frame(model: PixelConditionedGAN, frame, camera: Camera, dest: list[Path],
                      tol: float | None = None) -> int:
    """Rebuild the validator-flagged pixels (saturated, dead, inadmissible) of a stored polarimetric frame
    from the rest, keep every other pixel, write to ``dest``; returns the number of rebuilt pixels."""
    from polaraug.physics import DEFAULT_TOLERANCE
    from polaraug.validation import flagged_pixels, stored_frame, write_frame

    raw = stored_frame(frame, "--repair reconstruct")
    flagged = flagged_pixels(raw, camera, DEFAULT_TOLERANCE if tol is None else tol, path=frame.paths[0])
    if not flagged.any():
        return 0
    filled, _ = fill_stored(model, raw, ~flagged, camera)
    write_frame(dest, filled)
    return int(np.count_nonzero(flagged))
