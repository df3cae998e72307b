"""Adaptation that cannot erase polarization: ``train --init CKPT --adapt sensor --rgb RGB --polar REAL``.

The generator stays frozen; only a few camera parameters are fitted against the user's unlabelled real
frames, by matching statistics, and written as the real camera's ``sensor:`` section:

- exposure: one gain on all four channels (the ratio of the real and translated frames' median brightness),
  so DoLP and AoLP are untouched (per-channel gains are the camera file's calibration, not fitted here);
- noise: the sensor's a, b per channel by indirect inference: the noise curve the single-image estimator of
  ``calibrate sensor`` measures on the real frames as stored (demosaiced or not) is matched by the same
  estimator on translations written through the sensor model (the real camera's mosaic, demosaicing and
  bit depth). The fitted a, b are then the raw read-out's, whatever the demosaicing did to the frames.

Blur and tone are left at none: their statistics are confounded with scene content between unpaired sets.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from polaraug.cameras import Camera, save_camera
from polaraug.cameras.noise import estimate_from_images
from polaraug.errors import InputError
from polaraug.io.atomic import write_text
from polaraug.physics.sensor import SensorModel, capture

ITERATIONS = 4  # multiplicative updates of (a, b); measured: the match settles within 3


@dataclass
class SensorAdaptation:
    """The fitted sensor and how well the simulated noise curves match the real ones."""

    sensor: SensorModel
    gain: float
    real_curve: list[tuple[float, float]]  # per channel (a, b) measured on the real frames
    simulated_curve: list[tuple[float, float]]  # the same measure on translations through ``sensor``
    history: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"sensor": self.sensor.to_dict(), "gain": self.gain, "real_curve": self.real_curve,
                "simulated_curve": self.simulated_curve, "history": self.history}


def _measure(frames: list[np.ndarray], where: str) -> list[tuple[float, float]]:
    return [(f.a, f.b) for f in estimate_from_images(frames, None, where)]


def fit_sensor(translated: list[np.ndarray], real: list[np.ndarray], camera: Camera, *, seed: int = 0,
               iterations: int = ITERATIONS) -> SensorAdaptation:
    """Fit exposure and per-channel noise so that translations through the sensor measure like real frames.

    Args:
        translated: (H, W, 4) float intensities from the frozen generator, in the real camera's units.
        real: (H, W, 4) float intensities of the real frames as stored (demosaiced if the camera is DoFP).
        camera: the real camera (its DoFP pattern and bit depth shape the simulated read-out).
        seed: of the simulated noise.
        iterations: multiplicative updates of a and b.

    Raises:
        InputError: frames that do not support a noise estimate (see ``calibrate sensor``).
    """
    gain = float(np.median(np.concatenate([r.ravel() for r in real]))
                 / max(np.median(np.concatenate([t.ravel() for t in translated])), 1e-6))
    target = _measure(real, "the real frames")
    a = np.array([max(x, 1e-7) for x, _ in target])
    b = np.array([max(y, 1e-9) for _, y in target])
    history = []
    for it in range(iterations):
        model = SensorModel(noise_a=tuple(a), noise_b=tuple(b), bits=camera.bit_depth if camera.bit_depth
                            and camera.bit_depth <= 16 else None, dofp_pattern=camera.dofp_pattern, gain=gain)
        rng = np.random.default_rng([seed, it])
        simulated = [np.clip(capture(t, model, rng), 0, 1) for t in translated]
        measured = _measure(simulated, "the translations through the sensor")
        history.append({"a": a.tolist(), "b": b.tolist(), "measured": measured})
        ma = np.array([max(x, 1e-9) for x, _ in measured])
        mb = np.array([max(y, 1e-11) for _, y in measured])
        a = a * np.clip(np.array([max(x, 1e-9) for x, _ in target]) / ma, 0.1, 10)
        b = b * np.clip(np.array([max(y, 1e-11) for _, y in target]) / mb, 0.1, 10)
    final = dataclasses.replace(model, noise_a=tuple(float(x) for x in a), noise_b=tuple(float(x) for x in b))
    simulated = [np.clip(capture(t, final, np.random.default_rng([seed, iterations])), 0, 1) for t in translated]
    return SensorAdaptation(final, gain, target, _measure(simulated, "the translations through the sensor"),
                            history)


def _center_crop(x: np.ndarray, side: int) -> np.ndarray:
    h, w = x.shape[:2]
    top, left = max(0, (h - side) // 2), max(0, (w - side) // 2)
    return x[top:top + side, left:left + side]


def adapt_sensor(checkpoint: str | Path, rgb_dir: str | Path, polar_dir: str | Path, out: str | Path, *,
                 frames: int = 16, crop: int = 256, seed: int = 0, device: str | None = None) -> SensorAdaptation:
    """Fit the real camera's sensor for a frozen translator; writes ``out/camera.yaml`` (the real set's camera
    with the fitted ``sensor`` section, for ``translate --calibration``) and ``out/adapt_sensor.json``.

    Args:
        checkpoint: the translator (Stokes head: it writes any camera's intensities).
        rgb_dir: RGB frames to translate (any layout ``train --rgb`` reads).
        polar_dir: the user's unlabelled real polarimetric frames (their camera is the set's).
        out: the run folder.
        frames: frames drawn from each side (seeded).
        crop: centre crop side of every frame (the estimate needs flat regions, not whole frames).
        seed: of the draws and the simulated noise.
        device: for the generator.
    """
    import torch

    from polaraug.data.camera_choice import resolve_camera
    from polaraug.data.crops import scan_rgb
    from polaraug.data.polarset import scan_polarimetric
    from polaraug.io.capture import capture_from_array
    from polaraug.io.images import read_image

    from .dataset import load_for_translation
    from .infer import rgb_to_tensor, translate_batch

    camera = resolve_camera(None, polar_dir, default=None)
    model, _ = load_for_translation(checkpoint, device, camera)
    if model.cfg.head != "stokes":
        raise InputError(f"{checkpoint}: --adapt sensor needs a Stokes-head translator (it writes the real "
                         "camera's intensities through y = A s)")
    rng = np.random.default_rng(seed)
    rgbs = scan_rgb(rgb_dir)
    _, polar = scan_polarimetric(polar_dir)
    if not rgbs or not polar:
        raise InputError(f"{rgb_dir if not rgbs else polar_dir}: no frames to adapt to")
    pick_rgb = [rgbs[i] for i in rng.choice(len(rgbs), min(frames, len(rgbs)), replace=False)]
    pick_real = [polar[i] for i in rng.choice(len(polar), min(frames, len(polar)), replace=False)]
    real = [_center_crop(capture_from_array(p.read(), camera, path=p.name).intensities, crop) for p in pick_real]
    translated = []
    with torch.no_grad():
        for path in pick_rgb:
            x = rgb_to_tensor(_center_crop(read_image(path), crop)).to(next(model.parameters()).device)
            translated.append(translate_batch(model, x)[0].permute(1, 2, 0).float().cpu().numpy())
    fit = fit_sensor(translated, real, camera, seed=seed)
    out = Path(out)
    cam = dataclasses.replace(camera, name=f"{camera.name}-adapted", sensor=fit.sensor, path=None,
                              source=f"sensor fitted by polaraug train --adapt sensor ({len(real)} real frames, "
                                     f"{len(translated)} translations of {Path(checkpoint).name})")
    save_camera(cam, out / "camera.yaml")
    write_text(out / "adapt_sensor.json", json.dumps({**fit.to_dict(), "checkpoint": str(checkpoint),
                                                       "frames": len(real), "crop": crop, "seed": seed},
                                                      indent=1) + "\n")
    return fit
