"""Supervised terms of the paired objective (and of the paired anchor during unpaired adaptation).

All compare predicted and true intensities, (B, 4, H, W) in [-1, 1] model units, in physical units
y = (x + 1) / 2, through the camera's Stokes vectors s = A† y.
"""

from __future__ import annotations

import torch
from kornia.filters import spatial_gradient

from polaraug.physics import stokes_from_intensities
from polaraug.physics.stokes import dolp_planes

from .config import TranslatorConfig

EPS = 1e-8  # norm floor 1e-4: a negligible bias on polarized pixels, bounded gradients at (s1, s2) = 0
S0_FLOOR = 1e-3  # the predicted DoLP's denominator: bounded gradients on black pixels


def aolp_cosine_loss(s_pred: torch.Tensor, s_true: torch.Tensor) -> torch.Tensor:
    """DoLP-weighted circular AoLP error, Σ w (1 − cos 2Δφ) / Σ w with w the true DoLP.

    cos 2Δφ is the cosine between the (s1, s2) vectors, so the term is smooth everywhere and AoLP of
    unpolarized truth (w = 0) does not count.

    Args:
        s_pred, s_true: Stokes (B, 3, H, W).

    Returns:
        Scalar in [0, 2]; 0 when every polarized pixel has the true AoLP.
    """
    p, t = s_pred[:, 1:], s_true[:, 1:]
    norm_p = torch.sqrt((p**2).sum(1) + EPS)
    norm_t = torch.sqrt((t**2).sum(1) + EPS)
    cos = (p * t).sum(1) / (norm_p * norm_t)
    with torch.no_grad():  # the true DoLP, exact (no norm floor): unpolarized truth weighs 0
        w = (torch.sqrt((t**2).sum(1)) / s_true[:, 0].clamp(min=EPS)).clamp(0, 1)
    return (w * (1 - cos)).sum() / w.sum().clamp(min=EPS)


def dolp_pair(s_pred: torch.Tensor, s_true: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Predicted and true DoLP (B, H, W), both clipped to [0, 1] as evaluation clips them.

    The predicted DoLP has a norm floor and an s0 floor (bounded gradients on unpolarized and black pixels):
    they bias the predicted DoLP of unpolarized pixels by 1e-4 / max(s0, 1e-3), below 0.01 where s0 > 0.01,
    up to 0.1 on black pixels. The true DoLP is exact (0 where s0 <= 0) and carries no gradient.

    Args:
        s_pred, s_true: Stokes (B, 3, H, W).
    """
    d_pred = torch.sqrt((s_pred[:, 1:] ** 2).sum(1) + EPS) / s_pred[:, 0].clamp(min=S0_FLOOR)
    with torch.no_grad():
        d_true = dolp_planes(s_true[:, 0], s_true[:, 1], s_true[:, 2])
    return d_pred.clamp(0, 1), d_true.clamp(0, 1)


def dolp_l1_loss(d_pred: torch.Tensor, d_true: torch.Tensor) -> torch.Tensor:
    """Mean absolute DoLP error, every pixel weighted alike (the DoLP MAE that evaluation reports).

    Args:
        d_pred, d_true: DoLP (B, H, W) from :func:`dolp_pair`.

    Returns:
        Scalar in [0, 1].
    """
    return (d_pred - d_true).abs().mean()


def dolp_gradient_loss(d_pred: torch.Tensor, d_true: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of the DoLP maps' spatial gradients (normalised Sobel, both axes).

    Args:
        d_pred, d_true: DoLP (B, H, W) from :func:`dolp_pair`.

    Returns:
        Scalar >= 0; 0 when the predicted DoLP equals the truth's up to a constant.
    """
    return (spatial_gradient(d_pred[:, None]) - spatial_gradient(d_true[:, None])).abs().mean()  # (B, 1, 2, H, W)


def paired_terms(fake: torch.Tensor, real: torch.Tensor, a: torch.Tensor,
                 cfg: TranslatorConfig) -> dict[str, torch.Tensor]:
    """The weighted supervised terms of ``cfg``.

    Args:
        fake: predicted intensities (B, 4, H, W) in [-1, 1].
        real: true intensities (B, 4, H, W) in [-1, 1].
        a: (4, 3) calibration matrix.
        cfg: the weights λ_l1 (intensities), λ_stokes ((s1, s2) L1), λ_aolp (circular AoLP term), λ_dolp
            (DoLP L1), λ_dolp_grad (L1 on the DoLP's gradients).

    Returns:
        ``l1``, ``stokes``, ``aolp``, ``dolp`` and ``dolp_grad`` (terms with weight 0 are left out), float32
        scalars.
    """
    with torch.autocast(device_type=fake.device.type, enabled=False):
        yp, yt = (fake.float() + 1) / 2, (real.float() + 1) / 2
        terms: dict[str, torch.Tensor] = {}
        if cfg.lambda_l1:
            terms["l1"] = cfg.lambda_l1 * (yp - yt).abs().mean()
        if cfg.lambda_stokes or cfg.lambda_aolp or cfg.lambda_dolp or cfg.lambda_dolp_grad:
            sp, st = stokes_from_intensities(yp, a), stokes_from_intensities(yt, a)
            if cfg.lambda_stokes:
                terms["stokes"] = cfg.lambda_stokes * (sp[:, 1:] - st[:, 1:]).abs().mean()
            if cfg.lambda_aolp:
                terms["aolp"] = cfg.lambda_aolp * aolp_cosine_loss(sp, st)
            if cfg.lambda_dolp or cfg.lambda_dolp_grad:  # one DoLP pair for both terms
                dp, dt = dolp_pair(sp, st)
                if cfg.lambda_dolp:
                    terms["dolp"] = cfg.lambda_dolp * dolp_l1_loss(dp, dt)
                if cfg.lambda_dolp_grad:
                    terms["dolp_grad"] = cfg.lambda_dolp_grad * dolp_gradient_loss(dp, dt)
    return terms
