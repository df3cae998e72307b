"""Polarization part of geometric and photometric transforms, per encoding (pure functions).

Geometry (moving pixels) is the image library's job; these functions fix the channels afterwards.
numpy images are channels-last (H, W, C) of any dtype (uint8, uint16, float32); torch images are
channels-first (B, C, H, W) float with one pose per sample. Encodings: see polaraug.data.encodings.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np
import torch

from polaraug.data.encodings import CHANNELS, check_encoding, hue_period
from polaraug.errors import ConfigError
from polaraug.physics import camera_matrix, full_scale, repair_intensities
from polaraug.physics.geometry import MIRROR, stokes_rotation_matrix
from polaraug.physics.quantize import fix_admissible, quantize_admissible

from ._kernels import available as kernels_available
from ._kernels import mix_integer_ideal, permute_channels_inplace
from .pose import Pose

IDEAL = camera_matrix(dtype=np.float64)
_IDEAL_PINV = np.linalg.pinv(IDEAL)  # random rotation angles miss the pose-matrix cache: keep A† at hand
# Channel permutations of the ideal camera (exact for every dtype): a mirror swaps I45 and I135; a
# quarter turn maps I'_θ = I_{θ-90}.
MIRROR_PERM = (0, 3, 2, 1)
QUARTER_PERM = (2, 3, 0, 1)


def _camera(a: np.ndarray | None) -> np.ndarray:
    return IDEAL if a is None else np.asarray(a, dtype=np.float64)


def is_ideal(a: np.ndarray | None) -> bool:
    return a is None or np.allclose(np.asarray(a, dtype=np.float64), IDEAL, atol=1e-9)


def is_exactly_ideal(a: np.ndarray | None) -> bool:
    """Ideal within the tolerance under which ``fix_admissible`` uses its exact integer test."""
    return a is None or np.allclose(np.asarray(a, dtype=np.float64), IDEAL, atol=1e-12)


def stokes_pose_matrix(pose: Pose) -> np.ndarray:
    """3x3 Mueller-type matrix of the pose on (s0, s1, s2): mirror first, then rotation."""
    m = stokes_rotation_matrix(pose.phi)
    return m @ MIRROR if pose.mirror else m


def intensity_pose_matrix(pose: Pose, a: np.ndarray | None = None) -> np.ndarray:
    """4x4 map on intensities: A P A† plus the calibration residual carried over (physics.geometry)."""
    if a is None or is_ideal(a):
        return _ideal_pose_matrix(pose.mirror, pose.phi)
    return _pose_matrix(pose, np.asarray(a, dtype=np.float64))


@functools.lru_cache(maxsize=256)
def _ideal_pose_matrix(mirror: bool, phi: float) -> np.ndarray:
    m = _pose_matrix(Pose(mirror, phi), IDEAL, _IDEAL_PINV)
    m.flags.writeable = False  # shared by the cache
    return m


def _pose_matrix(pose: Pose, a: np.ndarray, a_pinv: np.ndarray | None = None) -> np.ndarray:
    a_pinv = np.linalg.pinv(a) if a_pinv is None else a_pinv
    return a @ stokes_pose_matrix(pose) @ a_pinv + (np.eye(4) - a @ a_pinv)


def _permutation(pose: Pose) -> tuple[int, ...] | None:
    k = pose.quarter_turns()
    if k is None:
        return None
    perm = list(MIRROR_PERM) if pose.mirror else [0, 1, 2, 3]
    if k:
        perm = [perm[i] for i in QUARTER_PERM]
    return tuple(perm)


def permute_channels(img: np.ndarray, perm: tuple[int, ...]) -> np.ndarray:
    """out[..., k] = img[..., perm[k]] as a C-contiguous array (OpenCV's mixChannels: ~3x faster than
    fancy indexing, whose result is not C-contiguous and gets copied again downstream)."""
    src = np.ascontiguousarray(img)
    out = np.empty_like(src)
    pairs = [v for k, p in enumerate(perm) for v in (p, k)]
    cv2.mixChannels([src], [out], pairs)
    return out


def _linear(img: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Apply a (C, C) or (C, C + 1) affine channel map with OpenCV (saturating, rounding for integers)."""
    return cv2.transform(img, m.astype(np.float64)) if img.shape[-1] <= 4 else np.einsum("hwc,kc->hwk", img, m)


def polarize(img: np.ndarray, pose: Pose, encoding: str = "intensities", a: np.ndarray | None = None,
             inplace: bool = False) -> np.ndarray:
    """The channels of an image (H, W, C) after a geometric transform of pose ``pose``.

    Exact for flips and quarter turns of the ideal camera (channel permutations, any dtype). Otherwise
    computed in floating point; integer intensities are re-encoded admissibly (quantize_admissible).
    ``inplace``: ``img`` is a fresh array the caller owns (e.g. a flip's output), so a channel permutation
    may be applied to it in place (when it is C-contiguous and writable) instead of into a copy.
    """
    check_encoding(encoding)
    if img.ndim != 3 or img.shape[-1] != CHANNELS[encoding]:
        raise ValueError(f"{encoding} images are (H, W, {CHANNELS[encoding]}), got shape {img.shape}")
    if pose.is_identity:
        return img
    if encoding == "intensities":
        return _polarize_intensities(img, pose, a, inplace)
    if encoding == "i0-i45-i90":
        # (I0, I45, I90) -> 4 channels with I135 = I0 + I90 - I45, transform, keep 3 (ideal camera).
        expand = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, -1, 1]], dtype=np.float64)
        m = (intensity_pose_matrix(pose) @ expand)[:3]
        return _linear(img, m)
    if encoding == "stokes":
        top = full_scale(img.dtype)
        p = stokes_pose_matrix(pose)
        # c = (s0/2, (s1+1)/2, (s2+1)/2) in units of top: c' = P c + (I - P) (0, top/2, top/2).
        offset = (np.eye(3) - p) @ np.array([0.0, top / 2, top / 2])
        return _linear(img, np.concatenate([p, offset[:, None]], axis=1))
    return _polarize_hsv(img, pose)


def _polarize_intensities(img: np.ndarray, pose: Pose, a: np.ndarray | None, inplace: bool = False) -> np.ndarray:
    exact = is_exactly_ideal(a)  # one tolerance test per frame when the camera is ideal (the usual case)
    perm = _permutation(pose) if exact or is_ideal(a) else None
    if perm is not None:
        if inplace and img.flags.c_contiguous and img.flags.writeable and img.shape[-1] == 4 and kernels_available():
            return permute_channels_inplace(img, perm)
        return permute_channels(img, perm)
    m = intensity_pose_matrix(pose, a)
    if img.dtype in (np.uint8, np.uint16) and img.size and exact and kernels_available():
        out, bad = mix_integer_ideal(img, m)  # rounded, saturated, and checked in the same pass
        return fix_admissible(out, _camera(a), bad=bad)
    out = _linear(img, m)  # OpenCV rounds and saturates integers
    if img.dtype.kind == "f":
        return out
    return fix_admissible(out, _camera(a))  # rounding can push a few strongly polarized pixels out


def _polarize_hsv(img: np.ndarray, pose: Pose) -> np.ndarray:
    out = img.copy()
    period = hue_period(img.dtype)
    hue = img[..., 0].astype(np.float64)
    if pose.mirror:
        hue = -hue
    hue = np.mod(hue + pose.phi / math.pi * period, period)
    out[..., 0] = hue if img.dtype.kind == "f" else np.mod(np.round(hue), period)
    return out


# ---------------------------------------------------------------------------------------------- torch


def _permute_planes_(img: torch.Tensor, perms: list[tuple[int, ...]]) -> torch.Tensor:
    """img[b, k] = img[b, perms[b][k]] in place, cycle by cycle through one spare plane (no new batch:
    a fresh output of a batch of frames costs page faults, and a gather reads an index per element).

    Args:
        img: (B, C, H, W), writable, owned by the caller.
        perms: one permutation of range(C) per sample.

    Returns:
        ``img``.
    """
    groups: dict[tuple[int, ...], list[int]] = {}
    for b, perm in enumerate(perms):
        groups.setdefault(tuple(perm), []).append(b)
    for perm, samples in groups.items():
        rows = slice(None) if len(samples) == img.shape[0] else torch.as_tensor(samples, device=img.device)
        view = img if isinstance(rows, slice) else img[rows]  # advanced indexing copies: written back below
        done = set()
        for start in range(len(perm)):
            if start in done or perm[start] == start:
                continue
            spare = view[:, start].clone()
            k = start
            while perm[k] != start:
                view[:, k].copy_(view[:, perm[k]])
                done.add(k)
                k = perm[k]
            view[:, k].copy_(spare)
            done.add(k)
        if not isinstance(rows, slice):
            img[rows] = view
    return img


def polarize_torch(img: torch.Tensor, poses: list[Pose], encoding: str = "intensities",
                   a: np.ndarray | None = None, inplace: bool = False) -> torch.Tensor:
    """Batch version of :func:`polarize`: img (B, C, H, W) float in [0, 1], one pose per sample.
    ``inplace``: ``img`` is a fresh tensor the caller owns, so flips and quarter turns of the ideal camera
    may permute its channels in place."""
    check_encoding(encoding)
    if all(p.is_identity for p in poses):
        return img
    if encoding == "hsv":
        sign = torch.tensor([-1.0 if p.mirror else 1.0 for p in poses], dtype=img.dtype, device=img.device)
        shift = torch.tensor([p.phi / math.pi for p in poses], dtype=img.dtype, device=img.device)
        hue = torch.remainder(img[:, 0] * sign[:, None, None] + shift[:, None, None], 1.0)
        return torch.cat([hue[:, None], img[:, 1:]], dim=1)
    if encoding == "intensities" and is_ideal(a):
        perms = [_permutation(p) for p in poses]
        if all(q is not None for q in perms):  # flips and quarter turns: per-sample channel permutations
            if inplace and not img.requires_grad:
                return _permute_planes_(img, perms)
            idx = torch.as_tensor(perms, device=img.device)[:, :, None, None].expand(-1, -1, *img.shape[2:])
            return torch.gather(img, 1, idx)
    mats = []
    for p in poses:
        if encoding == "intensities":
            mats.append(np.concatenate([intensity_pose_matrix(p, a), np.zeros((4, 1))], axis=1))
        elif encoding == "i0-i45-i90":
            expand = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, -1, 1]], dtype=np.float64)
            mats.append(np.concatenate([(intensity_pose_matrix(p) @ expand)[:3], np.zeros((3, 1))], axis=1))
        else:
            pm = stokes_pose_matrix(p)
            mats.append(np.concatenate([pm, ((np.eye(3) - pm) @ np.array([0.0, 0.5, 0.5]))[:, None]], axis=1))
    m = torch.as_tensor(np.stack(mats), dtype=img.dtype, device=img.device)  # (B, C, C + 1)
    out = torch.einsum("bkc,bchw->bkhw", m[:, :, :-1], img)
    if encoding == "stokes":  # the only encoding with an offset (the 0.5 of s1, s2)
        out = out + m[:, :, -1, None, None]
    return out


# ------------------------------------------------------------------------------------------ photometric


def reproject(img: np.ndarray, encoding: str = "intensities", a: np.ndarray | None = None) -> np.ndarray:
    """Put every pixel back into the admissible cone after an operation that may have left it
    (noise, kernels with negative lobes). hsv is admissible by construction (clipped saturation)."""
    check_encoding(encoding)
    if encoding in ("hsv",):
        return img
    top = full_scale(img.dtype)
    x = img.astype(np.float32) / np.float32(top)
    if encoding == "stokes":
        from polaraug.physics import project_to_cone

        s = np.stack([x[..., 0] * 2, x[..., 1] * 2 - 1, x[..., 2] * 2 - 1], axis=-1)
        s = project_to_cone(s)
        x = np.clip(np.stack([s[..., 0] / 2, (s[..., 1] + 1) / 2, (s[..., 2] + 1) / 2], -1), 0, 1)
    elif encoding == "i0-i45-i90":
        y4 = np.concatenate([x, x[..., :1] + x[..., 2:3] - x[..., 1:2]], axis=-1)
        x = np.clip(repair_intensities(y4, IDEAL)[..., :3], 0, 1)
    else:
        a = _camera(a)
        y = repair_intensities(x, a)
        if img.dtype.kind != "f":
            return quantize_admissible(y, a, int(math.log2(top + 1))).astype(img.dtype)
        return (y / np.maximum(y.max(axis=-1, keepdims=True), 1.0)).astype(img.dtype)
    return x.astype(img.dtype) if img.dtype.kind == "f" else np.round(x * top).astype(img.dtype)


def gain(img: np.ndarray, factor: float, encoding: str = "intensities", a: np.ndarray | None = None) -> np.ndarray:
    """Global gain / exposure change by ``factor``: light scales, DoLP and AoLP stay. In intensities this
    multiplies every channel; a pixel pushed past the range is scaled down as a whole (clipping one
    channel would change its AoLP); integers are re-encoded admissibly."""
    check_encoding(encoding)
    top = full_scale(img.dtype)
    x = img.astype(np.float32) / np.float32(top)
    if encoding == "hsv":
        x[..., 2] = np.clip(x[..., 2] * factor, 0, 1)
    elif encoding == "stokes":
        st = np.stack([x[..., 0] * 2, x[..., 1] * 2 - 1, x[..., 2] * 2 - 1], axis=-1) * np.float32(factor)
        # Out of range (s0 > 2 or |s1|, |s2| > 1): scale the pixel as a whole, which keeps it admissible.
        over = np.maximum(np.maximum(st[..., :1] / 2, np.abs(st[..., 1:2])), np.abs(st[..., 2:3]))
        st = st / np.maximum(over, 1.0)
        x = np.stack([st[..., 0] / 2, (st[..., 1] + 1) / 2, (st[..., 2] + 1) / 2], axis=-1)
    else:
        x = x * np.float32(factor)
        x = x / np.maximum(x.max(axis=-1, keepdims=True), 1.0)
        if encoding == "intensities" and img.dtype.kind != "f":
            return quantize_admissible(x, _camera(a), int(math.log2(top + 1))).astype(img.dtype)
    return x.astype(img.dtype) if img.dtype.kind == "f" else np.round(x * top).astype(img.dtype)


def add_noise(img: np.ndarray, std: float, rng: np.random.Generator, encoding: str = "intensities",
              a: np.ndarray | None = None) -> np.ndarray:
    """Additive Gaussian sensor noise of ``std`` (in [0, 1] units) on the intensities, then re-projection
    onto the admissible cone (noise alone would make dim, strongly polarized pixels inadmissible)."""
    check_encoding(encoding)
    if encoding in ("hsv", "stokes"):
        raise ConfigError(f"sensor noise acts on intensities; add it before encoding as {encoding!r}")
    top = full_scale(img.dtype)
    x = img.astype(np.float32) + rng.standard_normal(img.shape, dtype=np.float32) * np.float32(std * top)
    x = np.clip(x, 0, top)
    noisy = x.astype(img.dtype) if img.dtype.kind == "f" else np.round(x).astype(img.dtype)
    return reproject(noisy, encoding, a)
