"""Training data of the translator: unpaired random crops from full-resolution RGB images and polarimetric
frames, and paired crops (the same window of an RGB frame and its polarimetric twin).

Which images and crops step k uses is a function of (seed, k) only, so an interrupted run resumes
exactly. Integer data is scaled exactly (uint16 / 65535); tensors are (C, H, W) in [-1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from polaraug.cameras import Camera
from polaraug.data.crops import polar_crop, random_crop_at, rgb_crop, scan_rgb, to_tensor
from polaraug.data.polarset import PolarImage, scan_polarimetric
from polaraug.errors import InputError
from polaraug.io.capture import capture_from_array
from polaraug.io.images import read_image
from polaraug.nn.context import context_canvas, crop_box
from polaraug.physics import convert_camera, full_scale


@dataclass
class _Crops:
    """What both samplers draw from: RGB images, polarimetric frames and their camera, crop and batch size."""

    rgb: list[Path]
    polar: list[PolarImage]
    camera: Camera
    crop: int
    batch: int
    seed: int = 0
    rank: int = 0  # under torchrun each rank draws its own batches

    def sample_rgb(self) -> np.ndarray:
        """The frame training samples show (the first RGB frame), (H, W, 3)."""
        return read_image(self.rgb[0])


@dataclass
class UnpairedCrops(_Crops):
    """Sampler of (RGB batch, polarimetric batch) for a global step."""

    @classmethod
    def from_folders(cls, rgb_dir: str | Path, polar_dir: str | Path, camera: Camera, *, crop: int, batch: int,
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



def _stem_index(paths, key, where: Path) -> dict[str, object]:
    """{stem: item}, refusing two items with the same stem (their twins would be ambiguous)."""
    out: dict[str, object] = {}
    for item in paths:
        stem = Path(key(item)).stem
        if stem in out:
            raise InputError(f"{where}: two frames named {stem!r}; paired frames need unique names")
        out[stem] = item
    return out


def scan_pairs(root: str | Path, split: str | None = "train") -> tuple[list[Path], list[PolarImage]]:
    """RGB frames and their polarimetric twins of a paired folder (``rgb/`` and ``polar/``, same names).

    Args:
        root: the paired folder (``polaraug synth --mode paired`` output, or any such set).
        split: keep only this split of a polaraug-layout ``polar/`` set (frames named ``split/NAME``);
            None: every frame.

    Returns:
        (RGB paths, polarimetric frames), aligned and sorted by name.

    Raises:
        InputError: a missing folder, no twins, or RGB frames without a twin.
    """
    root = Path(root)
    layout, frames = scan_polarimetric(root / "polar")
    if split is not None and layout == "polaraug":
        frames = [f for f in frames if f.name.split("/")[0] == split]
    polar = _stem_index(frames, lambda f: f.name, root / "polar")
    rgb = _stem_index(scan_rgb(root / "rgb"), lambda p: p.name, root / "rgb")
    names = sorted(set(polar) & set(rgb))
    if not names:
        raise InputError(f"{root}: no RGB frame in rgb/ has a polarimetric twin in polar/ (split {split!r})")
    return [rgb[n] for n in names], [polar[n] for n in names]


@dataclass
class PairedCrops(_Crops):
    """Sampler of aligned (RGB, polarimetric) crops for a global step: the same window of both twins."""

    to_camera: Camera | None = None  # re-express the twins as this camera would measure them (y' = A' A† y)
    context: int = 0  # canvas side of the whole-frame context each sample carries (0: none)

    @classmethod
    def from_folder(cls, root: str | Path, camera: Camera, *, crop: int, batch: int, seed: int = 0,
                    split: str | None = "train", to_camera: Camera | None = None, context: int = 0) -> PairedCrops:
        """The pairs of ``root`` (see :func:`scan_pairs`), read with ``camera``; ``to_camera`` converts the
        twins' intensities to another camera through their Stokes vectors; ``context``: see the field."""
        rgb, polar = scan_pairs(root, split)
        return cls(rgb, polar, camera, crop, batch, seed, to_camera=to_camera, context=context)

    @property
    def steps_per_epoch(self) -> int:
        return max(1, len(self.rgb) // self.batch)

    def _pair(self, i: int, rng: np.random.Generator) -> tuple[torch.Tensor, ...]:
        rgb = read_image(self.rgb[i])
        y = capture_from_array(self.polar[i].read(), self.camera, path=self.polar[i].paths[0]).intensities
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[:2] != y.shape[:2]:
            raise InputError(f"{self.rgb[i]}: expected an RGB twin of {self.polar[i].paths[0]} "
                             f"({y.shape[1]}x{y.shape[0]}), got shape {rgb.shape}")
        rgb01 = rgb.astype(np.float32) / np.float32(full_scale(rgb.dtype))
        return pair_sample(rgb01, y, self.crop, rng, context=self.context,
                           convert=None if self.to_camera is None else (self.camera, self.to_camera))

    def batch_at(self, step: int) -> tuple[torch.Tensor, ...]:
        """The batch of global step ``step``: RGB (B, 3, c, c) and true intensities (B, 4, c, c), then with a
        context (``context`` > 0) the frames' canvases (B, 6, s, s) and the crops' boxes (B, 4)."""
        # The tag 7 sets paired draws apart from unpaired ones (which use [seed, step] + [rank]).
        rng = np.random.default_rng([self.seed, step, 7] + ([self.rank] if self.rank else []))
        pairs = [self._pair(int(i), rng) for i in rng.integers(0, len(self.rgb), self.batch)]
        return tuple(torch.stack(parts) for parts in zip(*pairs, strict=True))


def pair_sample(rgb01: np.ndarray, y: np.ndarray, crop: int, rng: np.random.Generator, *, context: int = 0,
                convert: tuple[Camera, Camera] | None = None) -> tuple[torch.Tensor, ...]:
    """One training sample of a pair: the same random window of both twins (and its frame's context).

    Args:
        rgb01: (H, W, 3) RGB in [0, 1]; y: (H, W, 4) intensities in [0, 1].
        crop: the window's side.
        rng: where the window comes from.
        context: canvas side of the whole-frame context (0: none).
        convert: (camera of ``y``, camera to re-express the crop in), or None.

    Returns:
        (RGB (3, c, c), intensities (4, c, c)) in [-1, 1], then with a context the frame's canvas
        (6, s, s) and the crop's box (4,).
    """
    both, (top, left) = random_crop_at(np.concatenate([rgb01, y], axis=-1), crop, rng)
    x, y_crop = both[..., :3], both[..., 3:]
    if convert is not None:  # on the crop only
        y_crop = convert_camera(y_crop, convert[0].matrix(), convert[1].matrix())
    out = (to_tensor(x), to_tensor(y_crop))
    if not context:
        return out
    canvas, frame_box = context_canvas(to_tensor(rgb01)[None], context)
    h, w = rgb01.shape[:2]
    return (*out, canvas[0], crop_box(frame_box, top, left, crop, crop, h, w))
