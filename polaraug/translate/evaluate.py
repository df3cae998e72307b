"""``polaraug eval-translator``: paired evaluation on ``polaraug synth`` output (OUT/rgb + OUT/polar).

Per polarimetric channel PSNR and SSIM (data range 1), DoLP mean absolute error, AoLP error (circular,
in degrees, weighted by the true DoLP: AoLP of unpolarized light means nothing), inadmissible fraction
and calibration residual (RMS) of the predictions.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from kornia.metrics import psnr, ssim

from polaraug.data.bdd100k import read_bdd100k
from polaraug.data.polarset import read_polarset
from polaraug.io.images import read_image
from polaraug.physics import DEFAULT_TOLERANCE, analyze, calibration_residual

from .infer import translate_image
from .model import ConstrainedCycleGAN

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


def frame_scores(pred: np.ndarray, true: np.ndarray, a: np.ndarray) -> dict[str, np.ndarray | float]:
    """Scores of one frame: pred, true (H, W, 4) float32 in [0, 1]."""
    p, t = (torch.from_numpy(np.ascontiguousarray(v.transpose(2, 0, 1)))[None] for v in (pred, true))
    out: dict[str, np.ndarray | float] = {
        # PSNR capped at 100 dB so that a perfect frame does not make the mean infinite
        "psnr": np.array([min(float(psnr(p[:, i:i + 1], t[:, i:i + 1], 1.0)), 100.0) for i in range(4)]),
        "ssim": np.array([float(ssim(p[:, i:i + 1], t[:, i:i + 1], 11).mean()) for i in range(4)]),
    }
    mp, mt = analyze(pred, a), analyze(true, a)
    out["dolp_abs"] = float(np.mean(np.abs(np.clip(mp.dolp, 0, 1) - np.clip(mt.dolp, 0, 1))))
    w = np.clip(mt.dolp, 0, 1)
    err = np.abs(np.mod(mp.aolp - mt.aolp + math.pi / 2, math.pi) - math.pi / 2)
    out["aolp_weighted"] = float(np.degrees((err * w).sum() / max(w.sum(), 1e-12)))
    out["inadmissible"] = float(np.mean(mp.violation > DEFAULT_TOLERANCE))
    out["residual_sq"] = float(np.mean(calibration_residual(pred, a) ** 2))
    return out


def evaluate(model: ConstrainedCycleGAN, paired: str | Path, split: str = "val",
             limit: int | None = None) -> TranslatorScores:
    """Translate the RGB frames of a paired synth set and score them against their polarimetric twins."""
    paired = Path(paired)
    polar = read_polarset(paired / "polar")
    a = polar.camera.matrix()
    truth = {f.stem: f for f in polar.frames(split)}
    acc: dict[str, list] = {}
    n = 0
    for frame in read_bdd100k(paired / "rgb", split):
        if frame.stem not in truth:
            raise ValueError(f"{frame.image}: no polarimetric twin in {paired / 'polar'} (not a paired set?)")
        pred = translate_image(model, read_image(frame.image))
        s = frame_scores(pred, polar.load(truth[frame.stem]), a)
        for k, v in s.items():
            acc.setdefault(k, []).append(v)
        n += 1
        if limit is not None and n >= limit:
            break
    if n == 0:
        raise ValueError(f"{paired}: no frames in split {split!r}")
    psnr_m, ssim_m = np.mean(acc["psnr"], axis=0), np.mean(acc["ssim"], axis=0)
    return TranslatorScores(
        frames=n, psnr=dict(zip(CHANNEL_NAMES, map(float, psnr_m), strict=True)),
        ssim=dict(zip(CHANNEL_NAMES, map(float, ssim_m), strict=True)),
        dolp_mae=float(np.mean(acc["dolp_abs"])), aolp_error_deg=float(np.mean(acc["aolp_weighted"])),
        inadmissible_fraction=float(np.mean(acc["inadmissible"])),
        residual_rms=float(math.sqrt(np.mean(acc["residual_sq"]))),
    )
