"""Unpaired training data: random crops from full-resolution RGB images and polarimetric frames.

Which images and crops step k uses is a function of (seed, k) only, so an interrupted run resumes
exactly. Integer data is scaled exactly (uint16 / 65535); tensors are (C, H, W) in [-1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from polaraug.cameras import Camera
from polaraug.data.polarset import PolarImage, scan_polarimetric
from polaraug.io.capture import capture_from_array
from polaraug.io.images import read_image
from polaraug.physics import full_scale

RGB_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def scan_rgb(root: str | Path) -> list[Path]:
    """All RGB images below ``root`` (BDD100K, KITTI or a plain folder), sorted."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: no such folder")
    paths = sorted(p for p in root.rglob("*") if p.suffix.lower() in RGB_SUFFIXES and p.is_file()
                   and ".synth" not in p.parts)
    if not paths:
        raise ValueError(f"{root}: no RGB images ({', '.join(RGB_SUFFIXES)})")
    return paths


def _crop(img: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A random size x size crop of (H, W, C); smaller images are reflect-padded first."""
    h, w = img.shape[:2]
    if h < size or w < size:
        ph, pw = max(size - h, 0), max(size - w, 0)
        mode = "reflect" if min(h, w) > max(ph, pw) else "edge"  # reflect needs more pixels than it pads
        img = np.pad(img, ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)), mode=mode)
        h, w = img.shape[:2]
    y, x = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
    return img[y:y + size, x:x + size]


def _to_tensor(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1))).float() * 2 - 1


def rgb_crop(path: Path, crop: int, rng: np.random.Generator) -> torch.Tensor:
    """A random crop (3, crop, crop) in [-1, 1] of an RGB image file."""
    img = read_image(path)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"{path}: expected an RGB image, got shape {img.shape}")
    top = full_scale(img.dtype)
    return _to_tensor(_crop(img, crop, rng).astype(np.float32) / np.float32(top))


def polar_crop(frame: PolarImage, camera: Camera, crop: int, rng: np.random.Generator) -> torch.Tensor:
    """A random crop (4, crop, crop) in [-1, 1] of a polarimetric frame's intensities."""
    cap = capture_from_array(frame.read(), camera, path=frame.paths[0])
    return _to_tensor(_crop(cap.intensities, crop, rng))


@dataclass
class UnpairedCrops:
    """Sampler of (RGB batch, polarimetric batch) for a global step."""

    rgb: list[Path]
    polar: list[PolarImage]
    camera: Camera
    crop: int
    batch: int
    seed: int = 0
    rank: int = 0  # under torchrun each rank draws its own batches

    @classmethod
    def from_folders(cls, rgb_dir: str | Path, polar_dir: str | Path, camera: Camera, crop: int, batch: int,
                     seed: int = 0) -> UnpairedCrops:
        _, polar = scan_polarimetric(polar_dir)
        return cls(scan_rgb(rgb_dir), polar, camera, crop, batch, seed)

    @property
    def steps_per_epoch(self) -> int:
        return max(1, max(len(self.rgb), len(self.polar)) // self.batch)

    def batch_at(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch of global step ``step``: RGB (B, 3, c, c) and polarimetric (B, 4, c, c)."""
        rng = np.random.default_rng([self.seed, step] + ([self.rank] if self.rank else []))
        a = [rgb_crop(self.rgb[int(i)], self.crop, rng) for i in rng.integers(0, len(self.rgb), self.batch)]
        b = [polar_crop(self.polar[int(i)], self.camera, self.crop, rng)
             for i in rng.integers(0, len(self.polar), self.batch)]
        return torch.stack(a), torch.stack(b)

