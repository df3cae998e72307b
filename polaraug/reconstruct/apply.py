"""Fill unknown pixels with a trained reconstruction model, keeping every known pixel exactly.

Shapes: images (H, W, C) as stored (uint8/uint16 or float in [0, 1]); known masks (H, W) bool.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from polaraug.cameras import Camera
from polaraug.errors import InputError
from polaraug.io.images import read_image, write_image
from polaraug.io.listing import list_images
from polaraug.nn import pad_to_multiple
from polaraug.physics import full_scale
from polaraug.physics.quantize import quantize_admissible

from .masks import random_mask, read_mask
from .model import Reconstructor, constraint_mse


@torch.no_grad()
def fill(model: Reconstructor, y: np.ndarray, known: np.ndarray, seed: int = 0) -> tuple[np.ndarray, float]:
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


def fill_stored(model: Reconstructor, raw: np.ndarray, known: np.ndarray, camera: Camera | None = None,
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


def apply_folder(model: Reconstructor, camera: Camera | None, input_dir: str | Path, out: str | Path, *,
                 mask_dir: str | Path | None = None, density: float = 0.005, seed: int = 0,
                 progress: bool = True) -> ApplyReport:
    """``polaraug reconstruct apply``: fill the unknown pixels of every image of a folder.

    Args:
        model: the reconstructor (its channel count must match the images').
        camera: the polarimetric camera of 4-channel models (quantisation), None for RGB.
        input_dir: folder of images (searched recursively).
        out: output folder; each image is written as PNG under the same relative name.
        mask_dir: masks named like the inputs (NAME.png for NAME.jpg), non-zero = known; None: random
            masks with ``density`` known pixels.
        seed: seeds the generated masks and the noise.
        progress: show a progress bar.

    Returns:
        Frames, filled pixels and the model's error on the known pixels.
    """
    from tqdm import tqdm

    input_dir, out = Path(input_dir), Path(out)
    paths = list_images(input_dir, "rgb")
    if not paths:
        raise InputError(f"{input_dir}: no images")
    outputs = [p.relative_to(input_dir).with_suffix(".png") for p in paths]
    dup = sorted({str(o) for o in outputs if outputs.count(o) > 1})
    if dup:
        raise InputError(f"{input_dir}: several inputs would write the same output {dup[:3]} (e.g. a.jpg and a.png)")
    report = ApplyReport()
    gen = torch.Generator().manual_seed(seed)
    for p, rel in tqdm(list(zip(paths, outputs, strict=True)), desc="reconstruct", unit="frame", disable=not progress):
        raw = read_image(p)
        if raw.ndim != 3 or raw.shape[2] != model.cfg.channels:
            raise InputError(f"{p}: expected {model.cfg.channels} channels, got shape {raw.shape}")
        known = (read_mask(Path(mask_dir) / rel, raw.shape[:2]) if mask_dir is not None
                 else random_mask(1, *raw.shape[:2], density, gen)[0, 0].numpy() > 0)
        filled, mse = fill_stored(model, raw, known, camera, seed)
        write_image(out / rel, filled)
        report.frames += 1
        report.filled_pixels += int(np.count_nonzero(~known))
        report.known_mse.append(mse)
    return report
