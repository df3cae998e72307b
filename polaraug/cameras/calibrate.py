"""Estimating a camera file from captures (``polaraug calibrate polarizer|gains``): which pixels count,
and the new :class:`Camera` built from a fit."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from polaraug.errors import ConfigError, InputError

from .estimate import GainFit, PolarizerFit, fit_from_polarizer, gains_from_redundancy
from .files import Camera

MIN_VALID_PIXELS = 16


def valid_pixels(files: Sequence[str | os.PathLike], camera: Camera) -> tuple[list[np.ndarray], np.ndarray]:
    """Read captures as super-pixels and find the pixels usable in every one of them.

    Args:
        files: captures of one scene setup, all the same size (raw mosaics or 4-channel images).
        camera: their camera (DoFP pattern, bit depth).

    Returns:
        (intensities, valid): per file (H, W, 4) float32 intensities in [0, 1] (super-pixel demosaicing:
        H, W are half the mosaic's), and the (H, W) bool mask of pixels neither saturated nor black
        (0 in a channel) in any capture.

    Raises:
        InputError: captures of different sizes, or fewer than 16 valid pixels.
    """
    from polaraug.io.capture import read_capture

    caps = [read_capture(f, camera, "superpixel") for f in files]
    shapes = {c.intensities.shape for c in caps}
    if len(shapes) != 1:
        raise InputError(f"captures differ in size: {sorted(shapes)}")
    valid = np.ones(caps[0].saturated.shape, bool)
    for c in caps:
        valid &= ~c.saturated & (c.intensities.min(axis=-1) > 0)
    if valid.sum() < MIN_VALID_PIXELS:
        raise InputError(f"fewer than {MIN_VALID_PIXELS} pixels are neither saturated nor black in every capture")
    return [c.intensities for c in caps], valid


def parse_angles(angles: str, count: int) -> list[float]:
    """Polarizer angles from a comma-separated option value.

    Args:
        angles: e.g. ``"0,20,40"`` (degrees).
        count: number of captures, one angle each.

    Returns:
        The angles in degrees.

    Raises:
        ConfigError: not as many angles as captures (ValueError: not numbers).
    """
    alphas = [float(a) for a in angles.split(",") if a.strip()]
    if len(alphas) != count:
        raise ConfigError(f"{count} captures but {len(alphas)} angles in --angles")
    return alphas


def calibrate_polarizer(files: Sequence[str | os.PathLike], angles_deg: Sequence[float], base: Camera,
                        name: str) -> tuple[Camera, PolarizerFit]:
    """Fit angles, gains and extinction ratios from captures of a uniformly lit linear polarizer.

    Args:
        files: the captures, one per polarizer angle.
        angles_deg: polarizer angle of each capture in degrees (CCW from image +x).
        base: starting camera; gives the DoFP pattern and bit depth.
        name: the new camera's name.

    Returns:
        (new camera, the fit).
    """
    images, valid = valid_pixels(files, base)
    means = np.stack([img[valid].mean(axis=0) for img in images])
    fit = fit_from_polarizer(means, list(angles_deg))
    cam = Camera(
        name=name, angles_deg=tuple(fit.angles_deg), gains=tuple(fit.gains),
        extinction_ratios=tuple(fit.extinction_ratios), dofp_pattern=base.dofp_pattern,
        bit_depth=base.bit_depth, description=f"estimated from {len(files)} polarizer captures",
        source=f"polaraug calibrate polarizer, rms fit residual {fit.rms_residual:.3g}",
    )
    return cam, fit


def calibrate_gains(files: Sequence[str | os.PathLike], base: Camera, name: str) -> tuple[Camera, GainFit]:
    """Per-channel gains from the redundancy I0 + I90 = I45 + I135 of ordinary captures.

    Args:
        files: captures with polarized regions of varied AoLP.
        base: starting camera; angles, extinction ratios, pattern and bit depth are kept.
        name: the new camera's name.

    Returns:
        (new camera, the fit).
    """
    images, valid = valid_pixels(files, base)
    fit = gains_from_redundancy(np.concatenate([img[valid] for img in images]))
    cam = Camera(**{
        **base.__dict__, "name": name, "gains": tuple(float(g) for g in fit.gains), "path": None,
        "description": f"gains estimated from {len(files)} captures, starting from {base.name}",
        "source": f"polaraug calibrate gains, conditioning {fit.conditioning:.3g}",
    })
    return cam, fit


def default_name(out: str | os.PathLike, name: str | None) -> str:
    """The new camera's name: ``name``, else the output file's stem."""
    return name or Path(out).stem


def gain_diagnostics(images: Sequence[np.ndarray], valid: np.ndarray, camera: Camera) -> dict:
    """What a gain estimate changes, over the valid pixels of the captures read with ``camera``: calibration
    residual RMS, median (I0 + I90) / (I45 + I135) of the gain-corrected intensities (1 for an ideal camera
    under any light), median DoLP, and the DoLP-weighted AoLP concentration (1: one AoLP everywhere, the
    signature of a gain artifact) and mean."""
    from polaraug.physics import analyze, calibration_residual

    a = camera.matrix(np.float64)
    y = np.concatenate([img[valid] for img in images]).astype(np.float32)
    yc = y / np.asarray(camera.gains, np.float32)
    m = analyze(y, a)
    dl, ao = np.asarray(m.dolp, np.float64), np.asarray(m.aolp, np.float64)
    z = (dl * np.exp(2j * ao)).sum() / max(dl.sum(), 1e-12)
    r = np.asarray(calibration_residual(y, a), np.float64)
    return {"residual_rms": float(np.sqrt((r**2).sum(-1).mean())),
            "redundancy_ratio": float(np.median((yc[:, 0] + yc[:, 2]) / np.maximum(yc[:, 1] + yc[:, 3], 1e-12))),
            "dolp_median": float(np.median(dl)), "aolp_concentration": float(abs(z)),
            "aolp_mean_deg": float(np.degrees(np.angle(z) / 2) % 180)}


def calibrate_unpolarized(files: Sequence[str | os.PathLike], base: Camera, name: str, *,
                          flat_field: bool) -> tuple[Camera, dict, dict]:
    """Per-channel gains from captures of unpolarized light.

    Args:
        files: captures (raw mosaics or 4-channel images).
        base: starting camera; angles, extinction ratios, pattern and bit depth are kept, its gains
            corrected.
        name: the new camera's name.
        flat_field: the captures show a uniform unpolarized target (ratio of sums); otherwise ordinary
            scenes assumed *mostly weakly polarized* (median ratio, robust to a polarized minority).

    Returns:
        (new camera, diagnostics before, diagnostics after) as :func:`gain_diagnostics`.
    """
    from .estimate import gains_from_unpolarized

    images, valid = valid_pixels(files, base)
    a = base.matrix(np.float64)
    c = gains_from_unpolarized(np.concatenate([img[valid] for img in images]), a, robust=not flat_field)
    how = "flat-field captures of an unpolarized target" if flat_field else \
        "ordinary captures, assuming most of each scene is weakly polarized"
    cam = Camera(**{
        **base.__dict__, "name": name, "gains": tuple(float(g) for g in np.asarray(base.gains) * c), "path": None,
        "description": f"gains from {len(files)} {how}, starting from {base.name}",
        "source": "polaraug calibrate " + ("flatfield" if flat_field else "weak"),
    })
    return cam, gain_diagnostics(images, valid, base), gain_diagnostics(images, valid, cam)


def flat_field_map(files: Sequence[str | os.PathLike], camera: Camera) -> tuple[np.ndarray, int]:
    """Per-pixel gains from flat-field captures: each pixel's mean over the captures divided by the mean of
    its channel (a DoFP pattern position for raw mosaics, a plane for 4-channel images), so the map keeps
    the per-channel gains out (they stay in the camera's ``gains``) and holds vignetting and pixel response.

    Args:
        files: captures of a uniform unpolarized target, all the same size.
        camera: their camera (bit depth; the DoFP pattern for raw mosaics).

    Returns:
        (map (H, W) for raw mosaics or (H, W, 4), pixels left at 1 because they were saturated or black).

    Raises:
        InputError: captures of different shapes, or of a shape that is neither (H, W) nor (H, W, 4).
    """
    from polaraug.io.images import read_image
    from polaraug.physics import full_scale, to_float

    raws = [read_image(f) for f in files]
    if len({r.shape for r in raws}) != 1 or raws[0].ndim not in (2, 3) or (raws[0].ndim == 3 and raws[0].shape[2] != 4):
        raise InputError(f"flat-field captures must share one shape, (H, W) or (H, W, 4); got "
                         f"{sorted({r.shape for r in raws})}")
    top = full_scale(raws[0].dtype, camera.bit_depth) if raws[0].dtype.kind in "ui" else 1.0
    bad = np.zeros(raws[0].shape, bool)
    for r in raws:
        bad |= (r >= top) | (r <= 0)
    mean = np.mean([to_float(r, camera.bit_depth) for r in raws], axis=0).astype(np.float64)
    g = np.ones_like(mean)
    if mean.ndim == 2:  # raw mosaic: normalise each of the four pattern positions
        for i in range(2):
            for j in range(2):
                sl = np.s_[i::2, j::2]
                ok = ~bad[sl]
                g[sl] = np.where(ok, mean[sl] / mean[sl][ok].mean(), 1.0)
    else:
        for k in range(4):
            ok = ~bad[..., k]
            g[..., k] = np.where(ok, mean[..., k] / mean[..., k][ok].mean(), 1.0)
    return g.astype(np.float32), int(bad.sum())
