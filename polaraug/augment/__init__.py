"""Polarization-aware augmentation: functional ops, albumentations and kornia transforms, ultralytics.

Geometry is done by the image libraries; polaraug fixes what the geometry does to polarization (a
mirror swaps I45 and I135, a rotation by φ rotates AoLP by φ) for each encoding, and keeps every pixel
admissible after resampling, gain and noise.
"""

from .functional import add_noise, gain, polarize, polarize_torch, reproject
from .pose import D4_POSES, Pose, pose_from_matrix

__all__ = ["D4_POSES", "Pose", "add_noise", "gain", "polarize", "polarize_torch", "pose_from_matrix", "reproject"]
