"""Camera effects applied to rendered radiance: exposure, noise, sRGB encoding, polarimetric capture.

Everything takes a numpy Generator so a frame is reproducible from its seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from polaraug.physics import intensities_from_stokes, repair_intensities
from polaraug.physics.quantize import quantize_admissible
from polaraug.physics.sensor import SensorModel, capture
from polaraug.physics.sensor import add_noise as physics_add_noise

MAX_GAIN = 6.0  # auto-exposure limit: night scenes stay dark (and noisy) as real ones do


@dataclass(frozen=True)
class SensorConfig:
    """noise: read noise std and shot-noise scale (variance = shot * x + read²), in [0, 1] units;
    bits: 8, 12 or 16 (polarimetric PNGs); dofp_pattern: simulate a DoFP sensor (mosaic, then demosaic)."""

    read_noise: float = 0.002
    shot_noise: float = 0.0005
    bits: int = 16
    dofp_pattern: tuple | None = None

    def model(self) -> SensorModel:
        """The same sensor as the physics' :class:`SensorModel` (quantisation is left to the caller)."""
        return SensorModel(noise_a=(self.shot_noise,) * 4, noise_b=(self.read_noise**2,) * 4,
                           dofp_pattern=self.dofp_pattern)


def auto_gain(luminance: np.ndarray, target: float = 0.8, percentile: float = 99.0) -> float:
    """Exposure gain mapping the ``percentile`` of ``luminance`` to ``target`` (capped at MAX_GAIN).

    Args:
        luminance: linear luminance, any shape.
        target: value the percentile is mapped to.
        percentile: which percentile (0-100).

    Returns:
        The gain.
    """
    p = float(np.percentile(luminance, percentile))
    return min(target / max(p, 1e-6), MAX_GAIN)


def add_noise(x: np.ndarray, cfg: SensorConfig, rng: np.random.Generator) -> np.ndarray:
    """Poisson-Gaussian sensor noise, approximated as Gaussian with variance shot * x + read².

    Args:
        x: intensities in [0, 1], any shape.
        cfg: noise levels.
        rng: the frame's generator (drawn from even when the noise is 0, so streams stay aligned).

    Returns:
        float32 array of x's shape.
    """
    return physics_add_noise(x, cfg.shot_noise, cfg.read_noise**2, rng)


def srgb_uint8(linear: np.ndarray) -> np.ndarray:
    """Linear RGB in [0, 1] -> 8-bit sRGB (IEC 61966-2-1 transfer curve).

    Args:
        linear: (H, W, 3) linear RGB.

    Returns:
        (H, W, 3) uint8.
    """
    x = np.clip(linear, 0.0, 1.0)
    srgb = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    return np.round(srgb * 255).astype(np.uint8)


def capture_rgb(rgb: np.ndarray, cfg: SensorConfig, rng: np.random.Generator) -> np.ndarray:
    """Rendered linear RGB -> 8-bit sRGB image, auto-exposed, with noise.

    Args:
        rgb: (H, W, 3) linear radiance.
        cfg: sensor noise.
        rng: the frame's generator.

    Returns:
        (H, W, 3) uint8 sRGB.
    """
    gain = auto_gain(rgb @ np.array([0.2126, 0.7152, 0.0722]))
    return srgb_uint8(add_noise(rgb * gain, cfg, rng))


def capture_polar(stokes: np.ndarray, a: np.ndarray, cfg: SensorConfig, rng: np.random.Generator) -> np.ndarray:
    """Rendered Stokes (H, W, 3) -> integer intensities (H, W, 4) of camera ``a``, admissible at 1e-6.

    Auto-exposure on the brightest channel, noise per channel (and per DoFP sample if simulated), clip,
    repair onto the cone (noise and demosaicing create inadmissible pixels), admissible quantisation.

    Args:
        stokes: (H, W, 3) rendered monochrome Stokes vectors.
        a: (4, 3) calibration matrix of the camera.
        cfg: noise, bit depth, DoFP pattern (None: no mosaic).
        rng: the frame's generator.

    Returns:
        (H, W, 4) uint8 or uint16 (12-bit values in uint16) intensities I0, I45, I90, I135.
    """
    y = intensities_from_stokes(stokes, a)
    gain = auto_gain(y.max(axis=-1))
    y = capture(y * gain, cfg.model(), rng)  # mosaic, noise per sample, demosaic (physics/sensor.py)
    y = repair_intensities(np.clip(y, 0.0, 1.0).astype(np.float32), a, margin=1e-6)
    return quantize_admissible(y, a, cfg.bits)
