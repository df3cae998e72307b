"""Adversarial losses on discriminator outputs (any shape, e.g. PatchGAN maps (B, 1, H', W'))."""

from __future__ import annotations

import torch


def lsgan(pred: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN loss (Mao et al.).

    Args:
        pred: discriminator outputs, any shape.
        real: whether the target is "real" (1) or "fake" (0).

    Returns:
        Scalar mean (D(x) - 1)² for real targets, mean D(x)² for fake ones.
    """
    return ((pred - 1.0) ** 2).mean() if real else (pred**2).mean()
