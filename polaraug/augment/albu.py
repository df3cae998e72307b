"""Polarization-aware albumentations transforms.

Each class subclasses the albumentations transform of the same name: parameters are drawn once by the
parent, bboxes/keypoints/masks are moved by the parent, and only the image target gets its channels
fixed afterwards (``polarize``) according to the encoding. They work on 4-channel uint8/uint16/float32
images and compose with albumentations' other transforms::

    A.Compose([PolarHorizontalFlip(p=0.5), PolarAffine(rotate=(-15, 15), p=0.5)],
              bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]))

Masks are never polarization-transformed. Kernels with negative lobes (cubic, Lanczos) are followed by a
re-projection onto the admissible cone. Not thread-safe per instance (as albumentations transforms).
"""

from __future__ import annotations

import math
from typing import Any

import albumentations as A
import cv2
import numpy as np

from polaraug.data.encodings import check_encoding

from .functional import add_noise, gain, polarize, reproject
from .pose import D4_POSES, Pose, pose_from_matrix

NEGATIVE_LOBES = (cv2.INTER_CUBIC, cv2.INTER_LANCZOS4)


def camera_matrix_of(camera: Any) -> np.ndarray | None:
    """None (ideal camera), a camera file / built-in name, a Camera, or a (4, 3) matrix -> matrix or None."""
    if camera is None:
        return None
    if isinstance(camera, str):
        from polaraug.cameras import load_camera

        camera = load_camera(camera)
    if hasattr(camera, "matrix"):
        return camera.matrix(np.float64)
    return np.asarray(camera, dtype=np.float64)


class _Polarized:
    """Mixin: the albumentations parent moves pixels; this fixes the polarization of the image target."""

    def __init__(self, *args: Any, encoding: str = "intensities", camera: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.encoding = check_encoding(encoding)
        self.camera = camera_matrix_of(camera)
        self._geometry_only = False

    def pose(self, params: dict[str, Any]) -> Pose:
        raise NotImplementedError

    def apply(self, img: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        out = super().apply(img, *args, **params)
        if self._geometry_only:
            return out
        if getattr(self, "interpolation", None) in NEGATIVE_LOBES:
            out = reproject(out, self.encoding, self.camera)
        # the parent's output is ours to permute in place unless it is (a view of) the input
        fresh = out is not img and not np.may_share_memory(out, img)
        return polarize(out, self.pose(params), self.encoding, self.camera, inplace=fresh)

    # Not thread-safe: _geometry_only is per instance (albumentations transforms are per process in
    # DataLoader workers; share one instance between threads only with a lock).

    def _geometric(self, method: str, data: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        self._geometry_only = True  # the parent may route masks through self.apply
        try:
            return getattr(super(), method)(data, *args, **params)
        finally:
            self._geometry_only = False

    def _polarize_stack(self, stack: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Polarize each (H, W, C) image of a stack (..., H, W, C)."""
        pose = self.pose(params)
        flat = stack.reshape(-1, *stack.shape[-3:])
        return np.stack([polarize(img, pose, self.encoding, self.camera) for img in flat]).reshape(
            *stack.shape[:-3], *flat.shape[1:])

    # Batched targets: the parents either skip self.apply or stack the batch along channels, so geometry
    # runs alone and each image is polarized afterwards.
    def apply_to_images(self, images: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        return self._polarize_stack(self._geometric("apply_to_images", images, *args, **params), params)

    def apply_to_volume(self, volume: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        return self._polarize_stack(self._geometric("apply_to_volume", volume, *args, **params), params)

    def apply_to_volumes(self, volumes: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        return self._polarize_stack(self._geometric("apply_to_volumes", volumes, *args, **params), params)

    def apply_to_mask(self, mask: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        return self._geometric("apply_to_mask", mask, *args, **params)

    def apply_to_masks(self, masks: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        return self._geometric("apply_to_masks", masks, *args, **params)

    def apply_to_mask3d(self, mask3d: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        return self._geometric("apply_to_mask3d", mask3d, *args, **params)

    def apply_to_masks3d(self, masks3d: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        return self._geometric("apply_to_masks3d", masks3d, *args, **params)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return (*super().get_transform_init_args_names(), "encoding")


class PolarHorizontalFlip(_Polarized, A.HorizontalFlip):
    """Horizontal flip; polarization mirrored (θ -> -θ: I45 <-> I135, s2 -> -s2, AoLP -> π - AoLP)."""

    def pose(self, params: dict[str, Any]) -> Pose:
        return Pose(mirror=True)


class PolarVerticalFlip(_Polarized, A.VerticalFlip):
    """Vertical flip; polarization mirrored as for the horizontal flip."""

    def pose(self, params: dict[str, Any]) -> Pose:
        return Pose(mirror=True)


class PolarRandomRotate90(_Polarized, A.RandomRotate90):
    """Quarter turns counter-clockwise; polarization turned with them (I0 <-> I90, I45 <-> I135)."""

    def pose(self, params: dict[str, Any]) -> Pose:
        return Pose(phi=params["factor"] * math.pi / 2)


class PolarTranspose(_Polarized, A.Transpose):
    """Transpose (reflection over the main diagonal): AoLP -> π/2 - AoLP."""

    def pose(self, params: dict[str, Any]) -> Pose:
        return D4_POSES["t"]


class PolarD4(_Polarized, A.D4):
    """The eight symmetries of the square, each with its polarization."""

    def pose(self, params: dict[str, Any]) -> Pose:
        return D4_POSES[params["group_element"]]


class _MatrixPose:
    def pose(self, params: dict[str, Any]) -> Pose:
        return pose_from_matrix(params["matrix"])


class PolarRotate(_MatrixPose, _Polarized, A.Rotate):
    """Rotation by a random angle; AoLP rotates by the same angle."""


class PolarSafeRotate(_MatrixPose, _Polarized, A.SafeRotate):
    """Rotation that keeps the whole image; AoLP rotates by the same angle."""


class PolarAffine(_MatrixPose, _Polarized, A.Affine):
    """Affine warp; AoLP follows the warp's rotation (and mirror); shear/anisotropic scale count as
    their nearest rotation."""


class PolarRandomResizedCrop(_Polarized, A.RandomResizedCrop):
    """Random resized crop; no polarization change, re-projection after cubic/Lanczos resampling."""

    def pose(self, params: dict[str, Any]) -> Pose:
        return Pose()


class _Photometric(A.ImageOnlyTransform):
    """A physical change of the light with one factor drawn uniformly from ``limits`` per image."""

    param = "factor"

    def __init__(self, limits: tuple[float, float], encoding: str, camera: Any, p: float):
        super().__init__(p=p)
        self.limits = limits
        self.encoding = check_encoding(encoding)
        self.camera = camera_matrix_of(camera)

    def get_params(self) -> dict[str, float]:
        return {self.param: self.py_random.uniform(*self.limits), "seed": self.py_random.randint(0, 2**31 - 1)}

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("limits", "encoding")


class PolarGain(_Photometric):
    """Global gain / exposure change, factor drawn from ``gain_range``; DoLP and AoLP unchanged."""

    def __init__(self, gain_range: tuple[float, float] = (0.7, 1.3), encoding: str = "intensities",
                 camera: Any = None, p: float = 0.5):
        super().__init__(gain_range, encoding, camera, p)

    def apply(self, img: np.ndarray, factor: float = 1.0, **params: Any) -> np.ndarray:
        return gain(img, factor, self.encoding, self.camera)


class PolarSensorNoise(_Photometric):
    """Gaussian sensor noise with std drawn from ``std_range`` ([0, 1] units), then re-projection."""

    param = "std"

    def __init__(self, std_range: tuple[float, float] = (0.002, 0.01), encoding: str = "intensities",
                 camera: Any = None, p: float = 0.5):
        super().__init__(std_range, encoding, camera, p)

    def apply(self, img: np.ndarray, std: float = 0.0, seed: int = 0, **params: Any) -> np.ndarray:
        return add_noise(img, std, np.random.default_rng(seed), self.encoding, self.camera)
