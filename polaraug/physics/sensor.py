"""What a polarization camera does to the light after its polarizers: optical blur, the DoFP mosaic, shot and
read noise, black level, the ADC's bit depth, demosaicing and a tone curve. One implementation for
rendering (``polaraug synth``) and for writing translations as a camera would (``polaraug translate``).

Units are full scale: intensities in [0, 1] at the sensor's white point. Noise is Poisson-Gaussian,
approximated as Gaussian with variance ``a · x + b`` per channel (``a``: the gain of shot noise, ``b``: read
noise variance), as in Foi et al. 2008 and EMVA 1288. Every random draw comes from the caller's generator,
so a frame is reproducible from its seed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .dofp import demosaic, mosaic, pattern_channels

DEMOSAIC_METHODS = ("bilinear", "edge-aware")


@dataclass(frozen=True, kw_only=True)
class SensorModel:
    """A camera's sensor and read-out, in full-scale units.

    Attributes:
        noise_a: per channel (I0, I45, I90, I135), the shot-noise gain: variance = a · x + b.
        noise_b: per channel, the read-noise variance.
        black_level: the ADC's pedestal (full-scale units): added before quantisation, subtracted after, so
            dark pixels keep their negative noise as a real read-out does.
        bits: ADC depth; None leaves values unquantised (the caller quantises).
        dofp_pattern: the 2x2 DoFP super-pixel (angles), or None for four values per pixel.
        demosaic: "bilinear" or "edge-aware" (OpenCV's edge-aware Bayer demosaicing on the two diagonal
            channel pairs of the super-pixel, as polanalyser's older EA option).
        blur_sigma: Gaussian optical blur (pixels) before sampling; 0: none.
        gamma: tone curve y ** (1 / gamma) applied last; 1: linear (the physics of y = A s holds only then).
        gain: exposure, one factor on all four channels before anything else (DoLP and AoLP unchanged).
    """

    noise_a: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    noise_b: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    black_level: float = 0.0
    bits: int | None = None
    dofp_pattern: tuple[tuple[int, int], tuple[int, int]] | None = None
    demosaic: str = "bilinear"
    blur_sigma: float = 0.0
    gamma: float = 1.0
    gain: float = 1.0

    def __post_init__(self) -> None:
        if len(self.noise_a) != 4 or len(self.noise_b) != 4:
            raise ValueError("noise_a and noise_b need one value per channel (4)")
        if min(self.noise_a) < 0 or min(self.noise_b) < 0:
            raise ValueError(f"noise variances must be >= 0, got a={self.noise_a}, b={self.noise_b}")
        if self.demosaic not in DEMOSAIC_METHODS:
            raise ValueError(f"demosaic must be one of {DEMOSAIC_METHODS}, got {self.demosaic!r}")
        if not 0 <= self.black_level < 1 or self.blur_sigma < 0 or self.gamma <= 0 or self.gain <= 0:
            raise ValueError("need 0 <= black_level < 1, blur_sigma >= 0, gamma > 0 and gain > 0")
        if self.bits is not None and not 1 <= self.bits <= 16:
            raise ValueError(f"bits must be 1..16, got {self.bits}")

    @property
    def noisy(self) -> bool:
        return max(self.noise_a) > 0 or max(self.noise_b) > 0

    def to_dict(self) -> dict:
        """The camera file's ``sensor:`` mapping (bits and pattern live in the camera's own fields)."""
        d = {"noise_a": [float(v) for v in self.noise_a], "noise_b": [float(v) for v in self.noise_b],
             "black_level": float(self.black_level), "demosaic": self.demosaic,
             "blur_sigma": float(self.blur_sigma), "gamma": float(self.gamma)}
        return {**d, "gain": float(self.gain)} if self.gain != 1 else d


def add_noise(x: np.ndarray, a: np.ndarray | float, b: np.ndarray | float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise of variance ``a · max(x, 0) + b``.

    Args:
        x: intensities, any shape.
        a, b: shot gain and read variance, scalars or arrays broadcastable to ``x``.
        rng: the frame's generator (drawn from even when the noise is 0, so streams stay aligned).

    Returns:
        float32 array of x's shape.
    """
    x = x.astype(np.float32, copy=False)
    sigma = np.sqrt(np.asarray(a, dtype=np.float32) * np.clip(x, 0, None) + np.asarray(b, dtype=np.float32))
    return x + rng.standard_normal(x.shape, dtype=np.float32) * sigma


def _per_sample(values: tuple[float, ...], pattern, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) map of a per-channel value at each raw sample of a DoFP mosaic (the mosaic of a constant image)."""
    return mosaic(np.broadcast_to(np.asarray(values, dtype=np.float32), (*shape, 4)), pattern)


def capture(y: np.ndarray, model: SensorModel, rng: np.random.Generator) -> np.ndarray:
    """Intensities reaching the sensor -> what the camera's pipeline delivers.

    gain -> blur -> (mosaic) -> noise per sample -> + black level, clip, quantise -> (demosaic) -> - black
    level -> tone curve.

    Args:
        y: (H, W, 4) linear intensities I0, I45, I90, I135 in full-scale units.
        model: the sensor.
        rng: the frame's generator.

    Returns:
        (H, W, 4) float32. Unclipped below 0 when the black level leaves room for negative noise; values are
        multiples of 1 / (2**bits - 1) before the black level is subtracted when ``bits`` is set.
    """
    y = np.asarray(y, dtype=np.float32)
    if model.gain != 1:
        y = y * np.float32(model.gain)
    if model.blur_sigma > 0:
        import cv2

        y = cv2.GaussianBlur(y, (0, 0), model.blur_sigma, borderType=cv2.BORDER_REFLECT)
    quantise = model.bits is not None or model.black_level > 0
    if model.dofp_pattern is not None:
        raw = mosaic(y, model.dofp_pattern)
        raw = add_noise(raw, _per_sample(model.noise_a, model.dofp_pattern, raw.shape),
                        _per_sample(model.noise_b, model.dofp_pattern, raw.shape), rng)
        raw = _read_out(raw, model) if quantise else raw
        out = _demosaic(raw, model)
    else:
        out = add_noise(y, np.asarray(model.noise_a, np.float32), np.asarray(model.noise_b, np.float32), rng)
        out = _read_out(out, model) if quantise else out
    out = out - np.float32(model.black_level) if model.black_level else out
    if model.gamma != 1:
        out = np.power(np.clip(out, 0, None), np.float32(1 / model.gamma))
    return out.astype(np.float32, copy=False)


def _read_out(x: np.ndarray, model: SensorModel) -> np.ndarray:
    """+ black level, clip to the ADC's range, quantise to its depth (full-scale units)."""
    x = np.clip(x + np.float32(model.black_level), 0.0, 1.0)
    if model.bits is None:
        return x
    top = np.float32(2**model.bits - 1)
    return np.round(x * top) / top


def _demosaic(raw: np.ndarray, model: SensorModel) -> np.ndarray:
    if model.demosaic == "bilinear":
        return demosaic(raw.astype(np.float32), model.dofp_pattern)
    return edge_aware_demosaic(raw, model.dofp_pattern)


def edge_aware_demosaic(raw: np.ndarray, pattern) -> np.ndarray:
    """Edge-aware demosaicing of a DoFP mosaic with OpenCV's Bayer EA: the super-pixel's diagonal pair is
    Bayer's red and blue; a second pass on the mosaic shifted by one column gives the other pair.

    Args:
        raw: (H, W) mosaic in [0, 1] (H, W even).
        pattern: 2x2 DoFP angles.

    Returns:
        (H, W, 4) float32 I0, I45, I90, I135.
    """
    import cv2

    raw = np.asarray(raw)
    h, w = raw.shape
    # OpenCV demosaics integers: map [-0.25, 1.25] onto uint16 so that noise below 0 (no pedestal) or above
    # full scale survives as it does through the bilinear path
    lo, span = -0.25, 1.5
    scale = 65535.0 / span
    dn = np.round((np.clip(raw, lo, lo + span) - lo) * scale).astype(np.uint16)
    channels = pattern_channels(pattern)
    first, last = _bayer_planes()  # output planes of Bayer's (0, 0) and (1, 1) samples
    out = np.empty((h, w, 4), np.float32)
    direct = cv2.demosaicing(dn, cv2.COLOR_BayerRG2BGR_EA)
    out[..., channels[0, 0]] = direct[..., first]
    out[..., channels[1, 1]] = direct[..., last]
    # shifted one column: the padded mosaic's (0, 0) and (1, 1) samples are the super-pixel's (0, 1), (1, 0)
    shifted = cv2.demosaicing(np.pad(dn, ((0, 0), (1, 0)), mode="reflect"), cv2.COLOR_BayerRG2BGR_EA)[:, 1:]
    out[..., channels[0, 1]] = shifted[..., first]
    out[..., channels[1, 0]] = shifted[..., last]
    return out / np.float32(scale) + np.float32(lo)


@functools.cache
def _bayer_planes() -> tuple[int, int]:
    """Which output planes of OpenCV's BayerRG code hold the (0, 0) and the (1, 1) samples (measured once on
    a constant mosaic: OpenCV names its codes by another corner than the top-left)."""
    import cv2

    probe = np.full((8, 8), 1000, np.uint16)
    probe[0::2, 0::2], probe[1::2, 1::2] = 3000, 5000
    out = cv2.demosaicing(probe, cv2.COLOR_BayerRG2BGR_EA)[3, 3]
    return int(np.argmin(np.abs(out.astype(int) - 3000))), int(np.argmin(np.abs(out.astype(int) - 5000)))
