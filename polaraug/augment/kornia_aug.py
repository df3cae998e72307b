"""Polarization-aware kornia augmentations for GPU training loops (``AugmentationSequential``-ready).

Each class subclasses the kornia augmentation of the same name; after kornia warps a batch (B, C, H, W)
float in [0, 1], the channels are fixed per sample from the sample's 3x3 transform matrix. Masks go
through kornia's geometry only; boxes and keypoints through kornia unchanged. ``inverse`` works too
(the inverse matrix gives the inverse polarization).
"""

from __future__ import annotations

from typing import Any

import kornia.augmentation as K
import torch

from polaraug.data.encodings import check_encoding

from .albu import camera_matrix_of
from .functional import polarize_torch
from .pose import pose_from_matrix


class _PolarizedK:
    def __init__(self, *args: Any, encoding: str = "intensities", camera: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.encoding = check_encoding(encoding)
        self.camera = camera_matrix_of(camera)
        self._geometry_only = False
        # kornia skips building flip matrices when nothing reads them; the polarization needs them.
        self._compute_matrix_lazily = False

    def apply_transform(self, input: torch.Tensor, params: dict[str, torch.Tensor], flags: dict[str, Any],
                        transform: torch.Tensor | None = None) -> torch.Tensor:
        out = super().apply_transform(input, params, flags, transform)
        if self._geometry_only:
            return out
        if transform is None:
            raise RuntimeError(f"{type(self).__name__}: kornia passed no transform matrix; cannot polarize")
        poses = [pose_from_matrix(m) for m in transform.detach().to("cpu", torch.float64).numpy()]
        # the parent's output is ours to permute in place unless it shares memory with the input
        fresh = out.untyped_storage().data_ptr() != input.untyped_storage().data_ptr()
        return polarize_torch(out, poses, self.encoding, self.camera, inplace=fresh)

    def apply_transform_mask(self, input: torch.Tensor, params: dict[str, torch.Tensor], flags: dict[str, Any],
                             transform: torch.Tensor | None = None) -> torch.Tensor:
        return self._geometric(super().apply_transform_mask, input, params, flags, transform)

    def inverse_masks(self, input: torch.Tensor, params: dict[str, torch.Tensor], flags: dict[str, Any],
                      transform: torch.Tensor | None = None, **kwargs: Any) -> torch.Tensor:
        return self._geometric(super().inverse_masks, input, params, flags, transform, **kwargs)

    def _geometric(self, method: Any, *args: Any, **kwargs: Any) -> torch.Tensor:
        self._geometry_only = True  # kornia routes masks through apply_transform
        try:
            return method(*args, **kwargs)
        finally:
            self._geometry_only = False


class PolarRandomHorizontalFlip(_PolarizedK, K.RandomHorizontalFlip):
    """kornia horizontal flip with mirrored polarization."""


class PolarRandomVerticalFlip(_PolarizedK, K.RandomVerticalFlip):
    """kornia vertical flip with mirrored polarization."""


class PolarRandomRotation(_PolarizedK, K.RandomRotation):
    """kornia rotation; AoLP rotates with the image."""


class PolarRandomAffine(_PolarizedK, K.RandomAffine):
    """kornia affine warp; AoLP follows its rotation and mirror (nearest rotation for shear/scale)."""
