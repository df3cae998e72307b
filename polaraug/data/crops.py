"""Random training crops as tensors: RGB images and polarimetric frames, at full resolution (never resized).

Shared by every stage that trains a network. Crops are (C, size, size) float32 in [-1, 1]; integer data is
scaled exactly (uint16 / 65535). Which crop is taken is a function of the generator passed in, so callers
that seed it per step resume exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from polaraug.cameras import Camera
from polaraug.errors import InputError
from polaraug.io.capture import capture_from_array
from polaraug.io.images import read_image
from polaraug.io.listing import RGB_SUFFIXES, list_images
from polaraug.physics import full_scale

from .polarset import PolarImage


def scan_rgb(root: str | Path) -> list[Path]:
    """All RGB images below ``root`` (BDD100K, KITTI or a plain folder), sorted; hidden entries skipped.

    Raises:
        InputError: no such folder, or no RGB image in it.
    """
    paths = list_images(root, "rgb")
    if not paths:
        raise InputError(f"{root}: no RGB images ({', '.join(RGB_SUFFIXES)})")
    return paths


def random_crop(img: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A random crop of an image.

    Args:
        img: (H, W, C) array.
        size: crop side; smaller images are reflect-padded (edge-padded when too small to reflect) first.
        rng: where the crop position comes from.

    Returns:
        (size, size, C), a view of ``img`` when no padding was needed.
    """
    return random_crop_at(img, size, rng)[0]


def random_crop_at(img: np.ndarray, size: int, rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int]]:
    """:func:`random_crop` and where the crop lies: (crop, (y, x)), its top-left corner in ``img``'s own
    pixel coordinates (negative when padding was needed)."""
    h, w = img.shape[:2]
    py = px = 0
    if h < size or w < size:
        ph, pw = max(size - h, 0), max(size - w, 0)
        mode = "reflect" if min(h, w) > max(ph, pw) else "edge"  # reflect needs more pixels than it pads
        py, px = ph // 2, pw // 2
        img = np.pad(img, ((py, ph - py), (px, pw - px), (0, 0)), mode=mode)
        h, w = img.shape[:2]
    y, x = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
    return img[y:y + size, x:x + size], (y - py, x - px)


def to_tensor(x: np.ndarray) -> torch.Tensor:
    """(H, W, C) in [0, 1] -> (C, H, W) float32 in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1))).float() * 2 - 1


def rgb_crop(path: Path, crop: int, rng: np.random.Generator) -> torch.Tensor:
    """A random crop (3, crop, crop) in [-1, 1] of an RGB image file (InputError if it is not RGB)."""
    img = read_image(path)
    if img.ndim != 3 or img.shape[2] != 3:
        raise InputError(f"{path}: expected an RGB image, got shape {img.shape}")
    top = full_scale(img.dtype)
    return to_tensor(random_crop(img, crop, rng).astype(np.float32) / np.float32(top))


def polar_crop(frame: PolarImage, camera: Camera, crop: int, rng: np.random.Generator) -> torch.Tensor:
    """A random crop (4, crop, crop) in [-1, 1] of a polarimetric frame's intensities (I0, I45, I90, I135)."""
    cap = capture_from_array(frame.read(), camera, path=frame.paths[0])
    return to_tensor(random_crop(cap.intensities, crop, rng))
