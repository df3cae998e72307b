"""The paired objective (pix2pix, Isola et al., with polarization terms): RGB frames and their true
polarimetric twins (``polaraug synth --mode paired`` renders, or a colour polarization camera's own RGB).

    L_G = λ_adv L_GAN(D(x, G(x))) + λ_l1 |y − G(x)| + λ_stokes |(s1, s2) − (ŝ1, ŝ2)| + λ_aolp AoLP term
    L_D = ½ [L_GAN(D(x, y), real) + L_GAN(D(x, G(x)), fake)]

with a conditional PatchGAN D on the 7 channels (RGB, intensities), or 9 with ``d_view: polarization``
(also s1/s0 and s2/s0), and the configured adversarial loss
(least squares by default; ``wgan-gp`` adds the gradient penalty and updates G every ``n_critic``-th step).
pix2pixHD's pieces are options: D at ``d_scales`` scales and the feature-matching term λ_fm Σ |D_k(x, y) −
D_k(x, G(x))| over D's layers. λ_adv = 0 trains the generator by regression alone (no discriminator
step). Training state only: inference needs just :class:`~polaraug.translate.model.Translator`, whose
checkpoint key ``g_ab`` this objective shares with the CycleGAN, so ``translate`` and ``eval-translator``
read both.
"""

from __future__ import annotations

import torch

from polaraug.engine.distributed import average_gradients
from polaraug.errors import ConfigError
from polaraug.nn import (
    Adversarial,
    build_discriminator,
    feature_matching,
    generator_turn,
    gradient_penalty,
    judge_both,
)
from polaraug.physics import stokes_from_intensities

from .config import TranslatorConfig
from .losses import S0_FLOOR, paired_terms
from .model import POLAR_CHANNELS, RGB_CHANNELS
from .objective import TranslatorObjective

VIEW_CHANNELS = {"intensities": 0, "polarization": 2}  # channels each discriminator view adds to (RGB, y)


def polarization_view(polar: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """The normalised Stokes (s1/s0, s2/s0), i.e. (DoLP cos 2φ, DoLP sin 2φ), of model-unit intensities.

    A DoLP of 0.1 moves the intensities by a few percent of their range and these two maps by 0.1 whatever
    the brightness, so a discriminator that sees them judges the polarization's structure directly.

    Args:
        polar: intensities (B, 4, H, W) in [-1, 1].
        a: (4, 3) calibration matrix.

    Returns:
        (B, 2, H, W) in [-1, 1]; differentiable (s0 floored at ``S0_FLOOR`` on black pixels).
    """
    with torch.autocast(device_type=polar.device.type, enabled=False):
        s = stokes_from_intensities((polar.float() + 1) / 2, a)
        return (s[:, 1:] / s[:, :1].clamp(min=S0_FLOOR)).clamp(-1, 1)


class PairedTranslator(TranslatorObjective):
    """The translator, the conditional discriminator, their optimizers and one training step.

    Args:
        cfg: architecture, head and loss weights.
        a: (4, 3) calibration matrix of the polarimetric camera.
        seed: seeds the initial weights.
    """

    objective = "paired"
    nets = ("g_ab", "d_pair")

    def __init__(self, cfg: TranslatorConfig, a: torch.Tensor, seed: int = 0):
        super().__init__(cfg, a, seed)
        self.d_pair = build_discriminator(RGB_CHANNELS + POLAR_CHANNELS + VIEW_CHANNELS[cfg.d_view], cfg.ndf,
                                          cfg.n_layers, cfg.d_scales)
        self.adversarial = Adversarial(cfg.gan_loss)
        if cfg.lambda_fm > 0 and cfg.lambda_adv == 0:
            raise ConfigError("translator config: feature matching ('lambda_fm') needs the discriminator "
                              "('lambda_adv' > 0)")
        self._last_g: dict[str, float] = {}  # the generator's terms at its last update (n_critic > 1)
        betas = (cfg.beta1, 0.999)
        self.opt_g = torch.optim.Adam(self.g_ab.parameters(), lr=cfg.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.d_pair.parameters(), lr=cfg.lr, betas=betas)

    def _pair(self, rgb: torch.Tensor, polar: torch.Tensor) -> torch.Tensor:
        """The discriminator's input for a frame and a polarimetric twin: (B, 7 or 9, H, W) by ``d_view``."""
        parts = [rgb, polar]
        if self.cfg.d_view == "polarization":
            parts.append(polarization_view(polar, self.a).to(polar.dtype))
        return torch.cat(parts, 1)

    def _generator_terms(self, rgb: torch.Tensor, polar: torch.Tensor, real_pair: torch.Tensor, dev: str,
                         context=None):
        """The generator's weighted loss terms and its translation (B, 4, H, W)."""
        with self._amp(dev):
            fake = self.g_ab(rgb, context)
            terms = paired_terms(fake, polar, self.a, self.cfg)
            if self.cfg.lambda_adv > 0:
                feats = self.d_pair.features(self._pair(rgb, fake))
                terms["adv"] = self.cfg.lambda_adv * self.adversarial.generator([f[-1] for f in feats])
                if self.cfg.lambda_fm > 0:
                    with torch.no_grad():
                        real_feats = self.d_pair.features(real_pair)
                    terms["fm"] = self.cfg.lambda_fm * feature_matching(real_feats, feats)
        return terms, fake

    def training_step(self, rgb: torch.Tensor, polar: torch.Tensor,
                      context: tuple[torch.Tensor, torch.Tensor] | None = None) -> dict[str, float]:
        """One generator update (every ``n_critic``-th step), then (λ_adv > 0) one discriminator update.

        Args:
            rgb: (B, 3, H, W) in [-1, 1].
            polar: the true twins, (B, 4, H, W) in [-1, 1].
            context: the crops' frame canvases (B, 6, s, s) and boxes (B, 4) when ``cfg.context`` > 0.

        Returns:
            The weighted terms (``adv``, ``fm``, ``l1``, ``stokes``, ``aolp``) and ``g`` when the generator
            updated (on critic-only steps: its last update's), ``d`` when the discriminator did, as floats.
        """
        dev = rgb.device.type
        adversarial = self.cfg.lambda_adv > 0
        real_pair = self._pair(rgb, polar)
        update = not adversarial or generator_turn(self.opt_d, self.cfg.n_critic)
        if update or not self._last_g:  # a critic-only step right after a resume still logs real terms
            self.d_pair.requires_grad_(False)
            (fake,) = self._generator_step(lambda: self._generator_terms(rgb, polar, real_pair, dev, context),
                                              update)
        else:  # critic-only step; the log repeats the generator's last terms (every row has every column)
            with torch.no_grad(), self._amp(dev):
                fake = self.g_ab(rgb, context)
        out = dict(self._last_g)
        if adversarial:
            self.d_pair.requires_grad_(True)
            fake_pair = self._pair(rgb, fake.detach())
            with self._amp(dev):
                loss_d = self.adversarial.discriminator(*judge_both(self.d_pair.outputs, real_pair, fake_pair))
                if self.adversarial.wasserstein:
                    loss_d = loss_d + self.cfg.lambda_gp * gradient_penalty(self.d_pair.outputs, real_pair, fake_pair)
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            average_gradients(self.opt_d)
            self.opt_d.step()
            out["d"] = float(loss_d.detach())
        return out
