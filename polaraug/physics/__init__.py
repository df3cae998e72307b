"""Polarization physics: pure, vectorised functions on numpy arrays and torch tensors alike.

This package imports nothing else of polaraug. Conventions (channel order I0, I45, I90, I135; A†; AoLP
range; the admissible cone; flips) are those of CONVENTIONS.md. numpy arrays are channels-last
(H, W, C), torch tensors channels-first (B, C, H, W); every function takes ``dim`` to override.
"""

from .analysis import PolarizationMaps, analyze
from .camera import (
    NOMINAL_ANGLES,
    camera_matrix,
    decompose_camera_matrix,
    diattenuation,
    extinction_ratio,
    pseudo_inverse,
)
from .cone import (
    DEFAULT_TOLERANCE,
    admissibility_violation,
    inadmissible_fraction,
    project_to_cone,
    repair_intensities,
)
from .dofp import demosaic, full_scale, mosaic, pattern_channels, to_float
from .geometry import mirror_intensities, mirror_stokes, rotate_intensities, rotate_stokes
from .losses import calibration_loss, optical_loss, proximal_distance
from .stokes import (
    aolp,
    calibration_residual,
    convert_camera,
    depolarize,
    dolp,
    intensities_from_stokes,
    stokes_from_intensities,
)

__all__ = [
    "DEFAULT_TOLERANCE",
    "NOMINAL_ANGLES",
    "PolarizationMaps",
    "admissibility_violation",
    "analyze",
    "aolp",
    "calibration_loss",
    "calibration_residual",
    "convert_camera",
    "depolarize",
    "camera_matrix",
    "decompose_camera_matrix",
    "demosaic",
    "diattenuation",
    "dolp",
    "extinction_ratio",
    "full_scale",
    "inadmissible_fraction",
    "intensities_from_stokes",
    "mirror_intensities",
    "mirror_stokes",
    "mosaic",
    "optical_loss",
    "pattern_channels",
    "project_to_cone",
    "proximal_distance",
    "pseudo_inverse",
    "repair_intensities",
    "rotate_intensities",
    "rotate_stokes",
    "stokes_from_intensities",
    "to_float",
]
