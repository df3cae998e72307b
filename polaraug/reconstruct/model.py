"""The pixel-wise conditioned GAN: G(z, c, m) completes an image from known pixels c (mask m), D judges
whole images (PacGAN: ``pacgan`` samples packed along channels). Objective (Ruffino et al.):

    L_G = L_GAN(G) + λ · E‖c − m⊙G(z, c, m)‖²       (mean over known pixel values, [0, 1] units)

with the least-squares GAN loss by default (``gan_loss``: vanilla, wgan-gp). Shapes: images
(B, C, H, W) in [-1, 1], C = 3 (RGB) or 4 (I0..I135); masks (B, 1, H, W) in {0, 1}; noise (B, nz, H, W).
H and W must be multiples of 4.
"""

from __future__ import annotations

import torch
from torch import nn

from polaraug.errors import ConfigError
from polaraug.nn import (
    Adversarial,
    PatchDiscriminator,
    ResnetGenerator,
    generator_turn,
    gradient_penalty,
    init_weights,
    judge_both,
)
from polaraug.physics import repair_intensities

from .config import ReconstructConfig


class ConditionedGenerator(nn.Module):
    """ResNet generator on [c⊙m, m, z]; polarimetric outputs (with a calibration matrix ``a``) are projected
    onto the admissible, calibration-consistent set y = A Π_C(A† y)."""

    def __init__(self, cfg: ReconstructConfig, a: torch.Tensor | None = None):
        super().__init__()
        self.nz = cfg.nz
        self.project = cfg.project and a is not None
        self.net = init_weights(ResnetGenerator(cfg.channels + 1 + cfg.nz, cfg.channels, cfg.ngf, cfg.n_blocks))
        self.register_buffer("a", a.float() if a is not None else None)  # kept even without projection

    def forward(self, c: torch.Tensor, m: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        out = self.net(torch.cat([c * m, m, z], dim=1))
        if not self.project:
            return out
        return repair_intensities((out.float() + 1) / 2, self.a) * 2 - 1


def constraint_mse(fake: torch.Tensor, real: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the known pixel values, in [0, 1] units (images are in [-1, 1])."""
    sq = ((fake - real) / 2) ** 2 * m
    return sq.sum() / (m.sum() * fake.shape[1]).clamp(min=1)


def pack(x: torch.Tensor, n: int) -> torch.Tensor:
    """PacGAN packing: (B, C, H, W) -> (B/n, nC, H, W), n consecutive samples per discriminator input."""
    b, c, h, w = x.shape
    return x.reshape(b // n, n * c, h, w)


class Reconstructor(nn.Module):
    """What inference runs: the conditioned generator and sampling.

    Args:
        cfg: architecture (channels, noise, generator size) and whether to project.
        a: (4, 3) calibration matrix for polarimetric (4-channel) models, None for RGB.
    """

    def __init__(self, cfg: ReconstructConfig, a: torch.Tensor | None = None):
        super().__init__()
        if cfg.channels == 4 and a is None:
            raise ConfigError("a polarimetric (4-channel) model needs the camera's calibration matrix")
        self.cfg = cfg
        self.g = ConditionedGenerator(cfg, a)

    @torch.no_grad()
    def complete(self, c: torch.Tensor, m: torch.Tensor, generator: torch.Generator | None = None,
                 keep_known: bool = True) -> torch.Tensor:
        """A sample G(z, c, m).

        Args:
            c: (B, C, H, W) images in [-1, 1] (only the known pixels matter).
            m: (B, 1, H, W) masks, 1 = known.
            generator: draws the noise z (B, nz, H, W).
            keep_known: copy the known pixels from ``c`` exactly.

        Returns:
            (B, C, H, W) in [-1, 1].
        """
        z = torch.randn(c.shape[0], self.cfg.nz, *c.shape[2:], generator=generator).to(c.device)
        out = self.g(c, m, z)
        return torch.where(m > 0, c, out) if keep_known else out


class PixelConditionedGAN(nn.Module):
    """Training state: the reconstructor, the (PacGAN) discriminator, their optimizers, and one step.

    Args:
        cfg: architecture and training settings.
        a: (4, 3) calibration matrix for polarimetric models, None for RGB.
        seed: seeds the initial weights.
    """

    def __init__(self, cfg: ReconstructConfig, a: torch.Tensor | None = None, seed: int = 0):
        super().__init__()
        self.cfg = cfg
        torch.manual_seed(seed)
        self.reconstructor = Reconstructor(cfg, a)
        self.d = init_weights(PatchDiscriminator(cfg.channels * cfg.pacgan, cfg.ndf, cfg.n_layers))
        betas = (cfg.beta1, 0.999)
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=cfg.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=cfg.lr, betas=betas)
        self.adversarial = Adversarial(cfg.gan_loss)
        self._last_g: dict[str, float] = {}  # the generator's terms at its last update (n_critic > 1)

    @property
    def g(self) -> ConditionedGenerator:
        return self.reconstructor.g

    def training_step(self, real: torch.Tensor, m: torch.Tensor, z: torch.Tensor) -> dict[str, float]:
        """One G update (every ``n_critic``-th step) then one D update.

        Args:
            real: (B, C, H, W) images in [-1, 1]; m: (B, 1, H, W) masks; z: (B, nz, H, W) noise.

        Returns:
            ``g_adv``, ``constraint_mse`` (on critic-only steps: the last generator update's) and ``d`` as floats.
        """
        n = self.cfg.pacgan
        update = generator_turn(self.opt_d, self.cfg.n_critic)
        if update or not self._last_g:  # a critic-only step right after a resume still reports real terms
            with torch.set_grad_enabled(update and torch.is_grad_enabled()):
                fake = self.g(real, m, z)
                self.d.requires_grad_(False)
                adv = self.adversarial.generator([self.d(pack(fake, n))])
                mse = constraint_mse(fake, real, m)
                if update:
                    self.opt_g.zero_grad(set_to_none=True)
                    (adv + self.cfg.lam * mse).backward()
                    self.opt_g.step()
            self._last_g = {"g_adv": adv.item(), "constraint_mse": mse.item()}
        else:
            with torch.no_grad():
                fake = self.g(real, m, z)
        out = dict(self._last_g)
        self.d.requires_grad_(True)
        real_p, fake_p = pack(real, n), pack(fake.detach(), n)
        loss_d = self.adversarial.discriminator(*judge_both(self.d.outputs, real_p, fake_p))
        if self.adversarial.wasserstein:
            loss_d = loss_d + self.cfg.lambda_gp * gradient_penalty(self.d.outputs, real_p, fake_p)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        return {**out, "d": loss_d.item()}

    def complete(self, c: torch.Tensor, m: torch.Tensor, generator: torch.Generator | None = None,
                 keep_known: bool = True) -> torch.Tensor:
        """:meth:`Reconstructor.complete`."""
        return self.reconstructor.complete(c, m, generator, keep_known)
