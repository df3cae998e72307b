"""Training images for reconstruction: random crops of RGB images or polarimetric frames, with masks and
noise drawn per step from (seed, step) only, so an interrupted run resumes exactly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from polaraug.cameras import Camera
from polaraug.data.crops import polar_crop, rgb_crop, scan_rgb
from polaraug.data.polarset import PolarImage, scan_polarimetric
from polaraug.errors import InputError

from .config import ReconstructConfig
from .masks import sample_masks

KINDS = ("auto", "rgb", "polar")


def data_kind(root: str | Path, kind: str = "auto") -> str:
    """"polar" or "rgb". auto: polar for a polaraug set (manifest.json), else RGB images; other polarimetric
    layouts (per-angle, 4-channel, DoFP) need kind="polar"."""
    if kind not in KINDS:
        raise InputError(f"data kind must be one of {KINDS}, got {kind!r}")
    if kind != "auto":
        return kind
    return "polar" if (Path(root) / "manifest.json").is_file() else "rgb"


@dataclass
class Crops:
    """Sampler of (images (B, C, c, c) in [-1, 1], masks (B, 1, c, c), noise (B, nz, c, c)) for a step."""

    items: list[Path] | list[PolarImage]
    camera: Camera | None  # None: RGB
    cfg: ReconstructConfig
    seed: int = 0

    @classmethod
    def from_folder(cls, root: str | Path, camera: Camera | None, cfg: ReconstructConfig, seed: int = 0) -> Crops:
        if camera is None:
            return cls(scan_rgb(root), None, cfg, seed)
        _, frames = scan_polarimetric(root)
        return cls(frames, camera, cfg, seed)

    def identity(self) -> dict:
        """What the sampler draws from (count and hash of the resolved paths), to refuse resuming on other
        data."""
        import hashlib

        paths = "\n".join(str(Path(p if self.camera is None else p.paths[0]).resolve()) for p in self.items)
        return {"images": len(self.items), "sha256": hashlib.sha256(paths.encode()).hexdigest()}

    def _crop(self, item, rng: np.random.Generator) -> torch.Tensor:
        if self.camera is None:
            return rgb_crop(item, self.cfg.crop, rng)
        return polar_crop(item, self.camera, self.cfg.crop, rng)

    def batch_at(self, step: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([self.seed, step])
        x = torch.stack([self._crop(self.items[int(i)], rng)
                         for i in rng.integers(0, len(self.items), self.cfg.batch)])
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        b, _, h, w = x.shape
        m = sample_masks(self.cfg.mask, b, h, w, self.cfg.density, gen)
        z = torch.randn(b, self.cfg.nz, h, w, generator=gen)
        return x, m, z
