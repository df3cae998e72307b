"""``polaraug eval-translator``: paired evaluation on ``polaraug synth`` output (OUT/rgb + OUT/polar).

Per polarimetric channel PSNR and SSIM (data range 1), DoLP mean absolute error, AoLP error (circular,
in degrees, weighted by the true DoLP: AoLP of unpolarized light means nothing), inadmissible fraction
and calibration residual (RMS) of the predictions; against the set's own twins and, when given, against
noise-free twins of the same frames; per surface type when the truth has surface masks; and labelled
comparison pictures at the frames' own resolution.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from kornia.metrics import psnr, ssim

from polaraug.data.bdd100k import read_bdd100k
from polaraug.data.polarset import read_polarset
from polaraug.errors import InputError
from polaraug.io.images import read_image, write_image
from polaraug.physics import (
    DEFAULT_TOLERANCE,
    PolarizationMaps,
    analyze,
    calibration_residual,
    convert_camera,
    full_scale,
)
from polaraug.viz import aolp_dolp_rgb, gray_rgb

from .infer import NO_AVERAGING, Averaging, translate_image
from .model import Translator

CHANNEL_NAMES = ("I0", "I45", "I90", "I135")


@dataclass
class TranslatorScores:
    frames: int = 0
    psnr: dict[str, float] = field(default_factory=dict)
    ssim: dict[str, float] = field(default_factory=dict)
    dolp_mae: float = 0.0
    aolp_error_deg: float = 0.0
    inadmissible_fraction: float = 0.0
    residual_rms: float = 0.0

    def lines(self) -> list[str]:
        ch = "  ".join(f"{c}: {self.psnr[c]:.2f} dB / {self.ssim[c]:.3f}" for c in CHANNEL_NAMES)
        return [f"frames                {self.frames}", f"PSNR / SSIM           {ch}",
                f"DoLP MAE              {self.dolp_mae:.4f}",
                f"AoLP error (DoLP-wt)  {self.aolp_error_deg:.2f} deg",
                f"inadmissible pixels   {100 * self.inadmissible_fraction:.4f} %",
                f"calibration residual  {self.residual_rms:.5f} rms"]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Comparison:
    """A prediction and its truth analysed once: DoLP maps clipped to [0, 1] and the circular AoLP
    difference in radians, in [0, π/2] (AoLP is defined modulo π)."""

    pred: PolarizationMaps
    true: PolarizationMaps
    dolp_pred: np.ndarray
    dolp_true: np.ndarray
    aolp_diff: np.ndarray

    @classmethod
    def of(cls, pred: np.ndarray, true: np.ndarray, a: np.ndarray) -> Comparison:
        """Args: pred, true (H, W, 4) intensities in [0, 1]; a (4, 3) camera matrix."""
        mp, mt = analyze(pred, a), analyze(true, a)
        diff = np.abs(np.mod(mp.aolp - mt.aolp + math.pi / 2, math.pi) - math.pi / 2)
        return cls(mp, mt, np.clip(mp.dolp, 0, 1), np.clip(mt.dolp, 0, 1), diff)


def frame_scores(pred: np.ndarray, true: np.ndarray, a: np.ndarray,
                 cmp: Comparison | None = None) -> dict[str, np.ndarray | float]:
    """Scores of one frame: pred, true (H, W, 4) float32 in [0, 1]; ``cmp`` their comparison if made."""
    p, t = (torch.from_numpy(np.ascontiguousarray(v.transpose(2, 0, 1)))[None] for v in (pred, true))
    out: dict[str, np.ndarray | float] = {
        # PSNR capped at 100 dB so that a perfect frame does not make the mean infinite
        "psnr": np.array([min(float(psnr(p[:, i:i + 1], t[:, i:i + 1], 1.0)), 100.0) for i in range(4)]),
        "ssim": np.array([float(ssim(p[:, i:i + 1], t[:, i:i + 1], 11).mean()) for i in range(4)]),
    }
    cmp = cmp or Comparison.of(pred, true, a)
    out["dolp_abs"] = float(np.mean(np.abs(cmp.dolp_pred - cmp.dolp_true)))
    w = cmp.dolp_true
    out["aolp_weighted"] = float(np.degrees((cmp.aolp_diff * w).sum() / max(w.sum(), 1e-12)))
    out["inadmissible"] = float(np.mean(cmp.pred.violation > DEFAULT_TOLERANCE))
    out["residual_sq"] = float(np.mean(calibration_residual(pred, a) ** 2))
    return out


def _paired_frames(paired: Path, split: str, limit: int | None):
    """The RGB frames of a paired set's split, at most ``limit``."""
    frames = list(read_bdd100k(paired / "rgb", split))
    return frames[:limit] if limit is not None else frames


def _mean_scores(acc: dict[str, list], n: int) -> TranslatorScores:
    psnr_m, ssim_m = np.mean(acc["psnr"], axis=0), np.mean(acc["ssim"], axis=0)
    return TranslatorScores(
        frames=n, psnr=dict(zip(CHANNEL_NAMES, map(float, psnr_m), strict=True)),
        ssim=dict(zip(CHANNEL_NAMES, map(float, ssim_m), strict=True)),
        dolp_mae=float(np.mean(acc["dolp_abs"])), aolp_error_deg=float(np.mean(acc["aolp_weighted"])),
        inadmissible_fraction=float(np.mean(acc["inadmissible"])),
        residual_rms=float(math.sqrt(np.mean(acc["residual_sq"]))),
    )


@dataclass
class Evaluation:
    """Scores against the paired set's own (noisy) twins, and against noise-free twins when given;
    ``surfaces``: per surface type of the noise-free (else noisy) truth, DoLP MAE, AoLP error and the mean
    predicted and true DoLP (see :meth:`SurfaceErrors.summary`)."""

    noisy: TranslatorScores
    noise_free: TranslatorScores | None = None
    surfaces: dict[str, dict[str, float]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = ["against the set's own twins (with sensor noise):", *self.noisy.lines()]
        if self.noise_free is not None:
            out += ["against noise-free twins:", *self.noise_free.lines()]
        if self.surfaces:
            out.append("by surface (DoLP MAE / AoLP error, DoLP-weighted / share of pixels / "
                       "mean DoLP predicted vs true):")
            out += [f"  {k:<12} {v['dolp_mae']:.4f} / {v['aolp_error_deg']:6.2f} deg / {100 * v['share']:.1f} % / "
                    f"{v['dolp_pred_mean']:.3f} vs {v['dolp_true_mean']:.3f}" for k, v in self.surfaces.items()]
        return out

    def to_dict(self) -> dict:
        return {**self.noisy.to_dict(), "noise_free": self.noise_free.to_dict() if self.noise_free else None,
                "surfaces": self.surfaces}


def evaluate(model: Translator, paired: str | Path, *, split: str = "val", limit: int | None = None,
             clean: str | Path | None = None, pictures: str | Path | None = None,
             max_pictures: int = 8, averaging: Averaging = NO_AVERAGING) -> Evaluation:
    """Translate the RGB frames of a paired set and score them against their polarimetric twins.

    Predictions are in the translator's camera; they are re-expressed in the set's camera through their
    Stokes vectors (y' = A' A† y) when the two differ, so DoLP and AoLP compare the same light.

    Args:
        model: the translator (eval mode).
        paired: a ``polaraug synth --mode paired`` folder (``rgb/`` BDD100K layout, ``polar/`` polaraug set).
        split: the split scored; limit: score at most this many frames.
        clean: a polaraug set with noise-free twins of the same frames (``synth --no-noise --no-dofp`` of the
            same seed), scored too.
        pictures: write labelled full-resolution comparison pictures of the first ``max_pictures`` frames here.
        averaging: test-time averaging of the translations (:class:`~polaraug.translate.infer.Averaging`).

    Returns:
        Mean scores over the frames (noisy and noise-free truth), and errors per surface when the truth set
        has surface masks (``synth --masks``).
    """
    paired = Path(paired)
    truths = [_Truth.of(paired / "polar", split)] + ([_Truth.of(Path(clean), split)] if clean is not None else [])
    surfaces = SurfaceErrors.of(truths[-1].root, split)  # the cleanest truth's masks
    a_model = model.a.cpu().numpy().astype(np.float64)
    frames = _paired_frames(paired, split, limit)
    if not frames:
        raise InputError(f"{paired}: no frames in split {split!r}")
    for k, frame in enumerate(frames):
        rgb = read_image(frame.image)
        y = translate_image(model, rgb, averaging)
        for t in truths:
            pred, true = as_written(y, a_model, t.a, model.admissible), t.load(frame)
            cmp = Comparison.of(pred, true, t.a)
            for key, v in frame_scores(pred, true, t.a, cmp).items():
                t.acc.setdefault(key, []).append(v)
            if t is truths[-1] and surfaces is not None:  # per surface and pictures: the cleanest truth
                surfaces.add(frame.stem, cmp)
            if t is truths[-1] and pictures is not None and k < max_pictures:
                write_image(Path(pictures) / f"{frame.stem}.png", comparison_picture(rgb, cmp))
    scores = [_mean_scores(t.acc, len(frames)) for t in truths]
    return Evaluation(scores[0], scores[1] if clean is not None else None,
                      surfaces.summary() if surfaces is not None else {})


def as_written(y: np.ndarray, a_model: np.ndarray, a: np.ndarray, admissible: bool) -> np.ndarray:
    """What ``translate`` would store for camera ``a``, back in [0, 1] units.

    Args:
        y: (H, W, 4) intensities of the translator's camera ``a_model`` (4, 3).
        a: (4, 3) the camera the frame is scored in (``translate --calibration``).
        admissible: the translator's outputs are admissible (written with repair and admissible 16-bit
            quantisation, which scales pixels past the range instead of clipping them).

    Returns:
        (H, W, 4) float32.
    """
    from .dataset import quantize_output

    y = convert_camera(y, a_model, a).astype(np.float32)
    q = quantize_output(y, a.astype(np.float64), project=admissible, bits=16)
    return q.astype(np.float32) / np.float32(65535)


@dataclass
class _Truth:
    """One set of polarimetric twins, its camera and the scores accumulated against it."""

    root: Path
    frames: dict
    load_frame: Callable[..., np.ndarray]
    a: np.ndarray
    acc: dict[str, list] = field(default_factory=dict)

    @classmethod
    def of(cls, root: Path, split: str) -> _Truth:
        ps = read_polarset(root)
        return cls(root, {f.stem: f for f in ps.frames(split)}, ps.load, ps.camera.matrix(np.float64))

    def load(self, frame) -> np.ndarray:
        """The twin (H, W, 4) float32 of an RGB frame (InputError if there is none)."""
        if frame.stem not in self.frames:
            raise InputError(f"{frame.image}: no polarimetric twin in {self.root}")
        return self.load_frame(self.frames[frame.stem])


class SurfaceErrors:
    """Per surface type (synth masks): DoLP absolute error, DoLP-weighted AoLP error, and the mean true and
    predicted DoLP, whose difference (``dolp_bias``) tells a translator's systematic under- or over-estimate
    from its spread."""

    def __init__(self, root: Path, split: str, legend: dict[int, str]):
        self.root, self.split, self.legend = root, split, legend
        self.sums: dict[str, np.ndarray] = {}  # name -> [pixels, Σ|ΔDoLP|, Σ w·ΔAoLP, Σ w = Σ DoLP, Σ DoLP̂]

    @classmethod
    def of(cls, root: Path, split: str) -> SurfaceErrors | None:
        """The accumulator of a set with ``masks/masks.json``, else None."""
        import json

        path = root / "masks" / "masks.json"
        if not path.is_file():
            return None
        legend = json.loads(path.read_text())
        labels = legend.get("values", legend)
        return cls(root, split, {int(k): v for k, v in labels.items()})

    def add(self, stem: str, cmp: Comparison) -> None:
        """Accumulate one frame's errors by the surface label of each pixel."""
        path = self.root / "masks" / self.split / f"{stem}.png"
        if not path.is_file():
            return
        labels = read_image(path).astype(np.intp).ravel()
        dp, dt, err = (np.asarray(a, np.float64).ravel() for a in (cmp.dolp_pred, cmp.dolp_true, cmp.aolp_diff))
        n = max(int(labels.max()), *self.legend) + 1
        # one pass per quantity over all labels: (5, n) sums in the order of self.sums' rows
        sums = np.stack([np.bincount(labels, weights=q, minlength=n)
                         for q in (np.ones_like(dp), np.abs(dp - dt), err * dt, dt, dp)])
        for value, name in self.legend.items():
            if sums[0, value] > 0:
                self.sums[name] = self.sums.get(name, 0) + sums[:, value]

    def summary(self) -> dict[str, dict[str, float]]:
        """Returns:
            {surface: {dolp_mae, aolp_error_deg, share, dolp_true_mean, dolp_pred_mean, dolp_bias}}, the most
            frequent surface first; ``dolp_bias`` = mean predicted − mean true DoLP (negative: underestimated)."""
        total = sum(v[0] for v in self.sums.values()) or 1
        return {name: {"dolp_mae": float(v[1] / v[0]), "aolp_error_deg": float(np.degrees(v[2] / max(v[3], 1e-12))),
                       "share": float(v[0] / total), "dolp_true_mean": float(v[3] / v[0]),
                       "dolp_pred_mean": float(v[4] / v[0]), "dolp_bias": float((v[4] - v[3]) / v[0])}
                for name, v in sorted(self.sums.items(), key=lambda kv: -kv[1][0])}


def comparison_picture(rgb: np.ndarray, cmp: Comparison) -> np.ndarray:
    """A labelled comparison at the frame's own resolution.

    Args:
        rgb: (H, W, 3) input; cmp: its translation compared with the truth.

    Returns:
        (H + 18, 7W, 3) uint8: RGB | s0 | DoLP | AoLP (hue) | true DoLP | true AoLP | AoLP error (DoLP-weighted,
        0..90°), each under its label.
    """
    import cv2

    mp, mt, dp, dt = cmp.pred, cmp.true, cmp.dolp_pred, cmp.dolp_true
    err = cmp.aolp_diff * dt
    x = rgb.astype(np.float32) / np.float32(full_scale(rgb.dtype))
    tiles = {"RGB": np.round(np.clip(x, 0, 1) * 255).astype(np.uint8), "s0": gray_rgb(mp.stokes[..., 0], 0, 2),
             "DoLP": gray_rgb(dp), "AoLP": aolp_dolp_rgb(mp.aolp, dp), "true DoLP": gray_rgb(dt),
             "true AoLP": aolp_dolp_rgb(mt.aolp, dt), "AoLP err x DoLP": gray_rgb(err, 0, math.pi / 2)}
    out = []
    for label, tile in tiles.items():
        band = np.full((18, tile.shape[1], 3), 255, np.uint8)
        cv2.putText(band, label, (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        out.append(np.concatenate([band, tile], axis=0))
    return np.concatenate(out, axis=1)
