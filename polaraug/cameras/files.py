"""Camera calibration files (``calibration/*.yaml``): schema, loading, saving, built-in cameras.

A file describes one camera: the true polarizer angle, gain (transmission) and extinction ratio of each
channel I0, I45, I90, I135, and for DoFP sensors the 2x2 super-pixel pattern and bit depth. Example::

    schema: polaraug-camera/1
    name: sony_imx250mzr
    angles_deg: [0, 45, 90, 135]
    gains: [1, 1, 1, 1]
    extinction_ratios: [300, 300, 300, 300]   # .inf for an ideal polarizer
    dofp_pattern: [[90, 45], [135, 0]]        # optional: raw mosaics only
    bit_depth: 8                              # optional: raw samples / (2**bit_depth - 1)
    colour_dofp_pattern: [[R90, R45, G90, G45], [R135, R0, G135, G0],   # optional: raw colour mosaics
                          [G90, G45, B90, B45], [G135, G0, B135, B0]]   # (4x4 of colour + angle)
    gain_map: mine.gainmap.npy                # optional: per-pixel gains (flat field), beside the file
    sensor:                                   # optional: what translate writes through (physics/sensor.py)
      noise_a: 0.001                          #   shot gain, variance = a x + b (or 4 values)
      noise_b: 9.0e-6                         #   read variance
      black_level: 0.0                        #   ADC pedestal, full-scale units
      demosaic: bilinear                      #   or edge-aware (DoFP cameras)
      blur_sigma: 0.0                         #   optical blur, pixels
      gamma: 1.0                              #   tone curve y ** (1 / gamma)
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from polaraug.errors import InputError, excerpt, parse_reason
from polaraug.io.atomic import write_text
from polaraug.physics import camera_matrix, pattern_channels
from polaraug.physics.colour import pattern_cells
from polaraug.physics.sensor import DEMOSAIC_METHODS, SensorModel

SCHEMA = "polaraug-camera/1"
MAX_CONDITION = 1e4  # A is ~2.4 for an ideal camera; beyond this Stokes estimates are mostly noise
REQUIRED = ("name", "angles_deg", "gains", "extinction_ratios")
OPTIONAL = ("schema", "description", "dofp_pattern", "bit_depth", "source", "colour_dofp_pattern", "gain_map",
            "sensor")
SENSOR_FIELDS = ("noise_a", "noise_b", "black_level", "demosaic", "blur_sigma", "gamma", "gain")


class CalibrationFileError(InputError):
    """A calibration file is missing, unreadable or breaks the schema; the message names file and field."""


@dataclass(frozen=True, kw_only=True)
class Camera:
    """A polarization camera: per-channel angles (degrees), gains and extinction ratios, optional DoFP layout.
    Keyword-only: ``Camera(name="mine", gains=(1.1, 1, 1, 1))``."""

    name: str
    angles_deg: tuple[float, ...] = (0.0, 45.0, 90.0, 135.0)
    gains: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)
    extinction_ratios: tuple[float, ...] = (math.inf,) * 4
    dofp_pattern: tuple[tuple[int, int], tuple[int, int]] | None = None
    bit_depth: int | None = None
    colour_dofp_pattern: tuple[tuple[str, ...], ...] | None = None  # 4x4 cells like "R90"
    gain_map: str | None = None  # per-pixel gains (.npy): (H, W) for raw mosaics, (H, W, 4) for 4 channels
    sensor: SensorModel | None = None  # noise, black level, demosaicing, blur, tone (bits and mosaic: above)
    description: str = ""
    source: str = ""
    path: Path | None = field(default=None, compare=False)

    def gain_map_path(self) -> Path | None:
        """The gain map file; a relative name is relative to the camera file."""
        if self.gain_map is None:
            return None
        path = Path(self.gain_map)
        if not path.is_absolute() and self.path is not None:
            path = Path(self.path).parent / path
        try:
            return path.resolve()
        except (OSError, RuntimeError):  # a link loop (RuntimeError before Python 3.13): reading it says so
            return Path(os.path.abspath(path))

    def pixel_gains(self) -> np.ndarray | None:
        """The per-pixel gain map (float32), or None.

        Raises:
            CalibrationFileError: the map is missing or not (H, W) or (H, W, 4) positive finite numbers; the
                message names the camera file (when the camera has one) and the map.
        """
        path = self.gain_map_path()
        if path is None:
            return None
        shown = excerpt(str(path), 200)  # a file's name, which may be thousands of characters
        where = f"{self.path}: gain map {shown}" if self.path is not None else shown
        try:
            mtime = path.stat().st_mtime_ns
        except (OSError, ValueError):  # missing, or a name the file system refuses: reading it says which
            mtime = 0
        return _load_gain_map(str(path), mtime, where)

    def matrix(self, dtype: type = np.float32) -> np.ndarray:
        """Calibration matrix A (4, 3) of this camera (CONVENTIONS.md formula)."""
        return camera_matrix(self.angles_deg, self.gains, self.extinction_ratios, dtype=dtype)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict in file order, ready for YAML."""
        d: dict[str, Any] = {"schema": SCHEMA, "name": self.name}
        if self.description:
            d["description"] = self.description
        d["angles_deg"] = [float(a) for a in self.angles_deg]
        d["gains"] = [float(g) for g in self.gains]
        d["extinction_ratios"] = [float(e) for e in self.extinction_ratios]
        if self.dofp_pattern is not None:
            d["dofp_pattern"] = [list(r) for r in self.dofp_pattern]
        if self.bit_depth is not None:
            d["bit_depth"] = self.bit_depth
        if self.colour_dofp_pattern is not None:
            d["colour_dofp_pattern"] = [list(r) for r in self.colour_dofp_pattern]
        if self.gain_map is not None:  # absolute: the dict may land elsewhere (a set's manifest)
            d["gain_map"] = str(self.gain_map_path())
        if self.sensor is not None:
            d["sensor"] = self.sensor.to_dict()
        if self.source:
            d["source"] = self.source
        return d


@functools.lru_cache(maxsize=4)
def _load_gain_map(path: str, mtime_ns: int, where: str) -> np.ndarray:
    """A gain map file, loaded once per (path, modification time); ``where`` names it in messages."""
    from polaraug.io.images import ImageReadError, read_npy

    try:
        g = read_npy(path)  # the header's shape and type checked before the data is read
    except ImageReadError as e:
        raise CalibrationFileError(f"{where}: cannot read the gain map: {str(e).removeprefix(path + ': ')}") from None
    if (g.ndim == 3 and g.shape[2] != 4) or g.dtype.kind not in "uif" or not np.isfinite(g).all() or (g <= 0).any():
        raise CalibrationFileError(f"{where}: a gain map is (H, W) or (H, W, 4) of positive finite numbers, "
                                   f"got shape {g.shape} of {g.dtype}")
    return g.astype(np.float32)


def _fail(where: str, name: str, msg: str) -> CalibrationFileError:
    return CalibrationFileError(f"{where}: field '{name}' {msg}")


def _as_float(x: Any) -> float | None:
    """A YAML scalar as float, or None if it is not a number (bools, strings, NaN, ints beyond float)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    try:
        f = float(x)
    except OverflowError:
        return None
    return None if math.isnan(f) else f


def _four_numbers(data: dict, name: str, where: str, positive: bool, allow_inf: bool = False) -> tuple[float, ...]:
    v = data[name]
    vals = [_as_float(x) for x in v] if isinstance(v, list) and len(v) == 4 else None
    if vals is None or any(f is None or (math.isinf(f) and not allow_inf) for f in vals):
        hint = " (YAML reads 1e3 as text: write 1.0e3)" if isinstance(v, list) and any(
            isinstance(x, str) for x in v) else ""
        raise _fail(where, name,
                    f"must be a list of 4 finite numbers (one per channel I0, I45, I90, I135), got {excerpt(v)}{hint}")
    if positive and any(x <= 0 for x in vals):
        raise _fail(where, name, f"must be positive, got {excerpt(v)}")
    return tuple(vals)


def camera_from_dict(data: Any, where: str = "<calibration>") -> Camera:
    """Validate a parsed calibration file and build a :class:`Camera`; errors name ``where`` and the field."""
    if not isinstance(data, dict):
        raise CalibrationFileError(f"{where}: expected a YAML mapping of fields, got {type(data).__name__}")
    unknown = sorted(set(data) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise _fail(where, unknown[0], f"is not a calibration field (known: {', '.join(REQUIRED + OPTIONAL)})")
    for name in REQUIRED:
        if name not in data:
            raise _fail(where, name, "is missing")
    if data.get("schema", SCHEMA) != SCHEMA:
        raise _fail(where, "schema", f"must be {SCHEMA!r}, got {excerpt(data['schema'])}")
    if not isinstance(data["name"], str) or not data["name"]:
        raise _fail(where, "name", f"must be a non-empty string, got {excerpt(data['name'])}")
    angles = _four_numbers(data, "angles_deg", where, positive=False)
    gains = _four_numbers(data, "gains", where, positive=True)
    ers = _four_numbers(data, "extinction_ratios", where, positive=True, allow_inf=True)
    if any(e < 1 for e in ers):
        raise _fail(where, "extinction_ratios", f"must be >= 1 (1 = no polarizer, .inf = ideal), got {list(ers)}")
    pattern = data.get("dofp_pattern")
    if pattern is not None:
        numeric = isinstance(pattern, list) and all(
            isinstance(row, list) and all(_as_float(a) is not None for a in row) for row in pattern)
        try:
            if not numeric:
                raise ValueError(f"must be 2 rows of 2 angle numbers, got {excerpt(pattern)}")
            pattern_channels(pattern)
        except (ValueError, TypeError, KeyError) as e:
            raise _fail(where, "dofp_pattern", f"is invalid: {e}") from None
        pattern = tuple(tuple(int(a) for a in row) for row in pattern)
    gain_map = data.get("gain_map")
    if gain_map is not None and not isinstance(gain_map, str):
        raise _fail(where, "gain_map", f"must be a file name, got {excerpt(gain_map)}")
    colour = data.get("colour_dofp_pattern")
    if colour is not None:
        try:
            pattern_cells(colour)
        except (ValueError, TypeError) as e:
            raise _fail(where, "colour_dofp_pattern", f"is invalid: {e}") from None
        colour = tuple(tuple(str(c) for c in row) for row in colour)
    bit_depth = data.get("bit_depth")
    if bit_depth is not None and (not isinstance(bit_depth, int) or isinstance(bit_depth, bool)
                                  or not 1 <= bit_depth <= 32):
        raise _fail(where, "bit_depth", f"must be an integer from 1 to 32, got {excerpt(bit_depth)}")
    for name in ("description", "source"):
        if not isinstance(data.get(name, ""), str):
            raise _fail(where, name, f"must be a string, got {excerpt(data[name])}")
    sensor = _sensor(data["sensor"], where, bit_depth, pattern) if data.get("sensor") is not None else None
    cam = Camera(
        name=data["name"], angles_deg=angles, gains=gains, extinction_ratios=ers, dofp_pattern=pattern,
        bit_depth=bit_depth, colour_dofp_pattern=colour, gain_map=gain_map, sensor=sensor,
        description=data.get("description", ""), source=data.get("source", ""),
    )
    cond = np.linalg.cond(cam.matrix(np.float64))
    if not cond < MAX_CONDITION:
        raise CalibrationFileError(
            f"{where}: fields 'angles_deg' and 'extinction_ratios' describe a camera that cannot measure "
            f"linear polarization (condition number of A is {cond:.3g}; angles must differ, ERs exceed 1)"
        )
    return cam


def _sensor(data: Any, where: str, bits: int | None, pattern) -> SensorModel:
    """The ``sensor:`` mapping of a camera file (noise curve, black level, demosaicing, blur, tone); the bit
    depth and the mosaic are the camera's own ``bit_depth`` and ``dofp_pattern``."""
    if not isinstance(data, dict):
        raise _fail(where, "sensor", f"must be a mapping of {', '.join(SENSOR_FIELDS)}, got {excerpt(data)}")
    unknown = sorted(set(data) - set(SENSOR_FIELDS))
    if unknown:
        raise _fail(where, f"sensor.{unknown[0]}", f"is not a sensor field (known: {', '.join(SENSOR_FIELDS)})")
    values: dict[str, Any] = {}
    for name in ("noise_a", "noise_b"):
        v = data.get(name, 0.0)
        per = [_as_float(x) for x in v] if isinstance(v, list) and len(v) == 4 else [_as_float(v)] * 4
        if any(x is None or math.isinf(x) or x < 0 for x in per):
            raise _fail(where, f"sensor.{name}",
                        f"must be a variance >= 0 or a list of 4 (one per channel), got {excerpt(v)}")
        values[name] = tuple(per)
    for name, default in (("black_level", 0.0), ("blur_sigma", 0.0), ("gamma", 1.0), ("gain", 1.0)):
        x = _as_float(data.get(name, default))
        if x is None or math.isinf(x):
            raise _fail(where, f"sensor.{name}", f"must be a number, got {excerpt(data.get(name))}")
        values[name] = x
    values["demosaic"] = data.get("demosaic", "bilinear")
    if not isinstance(values["demosaic"], str) or values["demosaic"] not in DEMOSAIC_METHODS:
        raise _fail(where, "sensor", f"is invalid: demosaic must be one of {DEMOSAIC_METHODS}, "
                                     f"got {excerpt(values['demosaic'])}")
    try:
        return SensorModel(**values, bits=bits if bits is not None and bits <= 16 else None, dofp_pattern=pattern)
    except ValueError as e:
        raise _fail(where, "sensor", f"is invalid: {e}") from None


def builtin_dir() -> Path:
    """Folder of the built-in camera files (the repository's ``calibration/``, shipped in the package)."""
    return Path(str(resources.files("polaraug") / "cameras" / "builtin"))


def builtin_names() -> list[str]:
    """Names of the built-in cameras, e.g. ``['ideal', 'polarcam_4d', 'sony_imx250mzr']``."""
    return sorted(p.stem for p in builtin_dir().glob("*.yaml"))


def load_camera(spec: str | os.PathLike) -> Camera:
    """Load a camera from a YAML path or a built-in name (``ideal``, ``sony_imx250mzr``, ``polarcam_4d``)."""
    path = Path(spec)
    if not path.exists() and path.suffix == "" and (builtin_dir() / f"{spec}.yaml").exists():
        path = builtin_dir() / f"{spec}.yaml"
    if not path.exists():
        raise CalibrationFileError(
            f"{spec}: no such calibration file or built-in camera (built-ins: {', '.join(builtin_names())})"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError) as e:
        raise CalibrationFileError(f"{path}: cannot read calibration file: {parse_reason(e)}") from None
    cam = camera_from_dict(data, str(path))
    return Camera(**{**cam.__dict__, "path": path})


def save_camera(cam: Camera, path: str | os.PathLike) -> Path:
    """Validate ``cam`` and write it as YAML atomically: a reader never sees a partial or invalid file."""
    d = cam.to_dict()
    camera_from_dict(d, f"{path} (about to be written)")
    if cam.gain_map is not None and cam.gain_map_path().parent == Path(path).resolve().parent:
        d["gain_map"] = cam.gain_map_path().name  # beside the file: keep the pair movable
    text = "# polaraug camera calibration file; see docs/cameras.md\n"
    text += yaml.safe_dump(d, sort_keys=False, default_flow_style=None)
    return write_text(path, text)
