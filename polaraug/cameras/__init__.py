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

__all__ = [
    "Camera",
    "CalibrationFileError",
    "builtin_dir",
    "builtin_names",
    "camera_from_dict",
    "load_camera",
    "save_camera",
]
