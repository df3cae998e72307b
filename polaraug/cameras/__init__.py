"""Cameras: calibration files (schema, built-ins) and estimating them from captures."""

from .files import (
    CalibrationFileError,
    Camera,
    builtin_dir,
    builtin_names,
    camera_from_dict,
    load_camera,
    save_camera,
)
from .resolve import manifest_camera, resolve_camera

__all__ = [
    "Camera",
    "CalibrationFileError",
    "builtin_dir",
    "builtin_names",
    "camera_from_dict",
    "load_camera",
    "manifest_camera",
    "resolve_camera",
    "save_camera",
]
