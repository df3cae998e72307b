"""The paired objective (pix2pix, Isola et al., with polarization terms): RGB frames and their true
polarimetric twins (``polaraug synth --mode paired`` renders, or a colour polarization camera's own RGB).

    L_G = λ_adv L_GAN(D(x, G(x))) + λ_l1 |y − G(x)| + λ_stokes |(s1, s2) − (ŝ1, ŝ2)| + λ_aolp AoLP term
    L_D = ½ [L_GAN(D(x, y), real) + L_GAN(D(x, G(x)), fake)]

with a conditional PatchGAN D on the 7 channels (RGB, intensities) and the least-squares GAN loss.
λ_adv = 0 trains the generator by regression alone (no discriminator step). Training state only: inference
needs just :class:`~polaraug.translate.model.Translator`, whose checkpoint key ``g_ab`` this objective
shares with the CycleGAN, so ``translate`` and ``eval-translator`` read both.
"""

from __future__ import annotations

import torch

from polaraug.engine.distributed import average_gradients
from polaraug.nn import PatchDiscriminator, init_weights, lsgan

from .config import TranslatorConfig
from .losses import paired_terms
from .model import POLAR_CHANNELS, RGB_CHANNELS
from .objective import TranslatorObjective


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
        self.d_pair = init_weights(PatchDiscriminator(RGB_CHANNELS + POLAR_CHANNELS, cfg.ndf, cfg.n_layers))
        betas = (cfg.beta1, 0.999)
        self.opt_g = torch.optim.Adam(self.g_ab.parameters(), lr=cfg.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.d_pair.parameters(), lr=cfg.lr, betas=betas)

    def training_step(self, rgb: torch.Tensor, polar: torch.Tensor) -> dict[str, float]:
        """One generator update, then (λ_adv > 0) one discriminator update.

        Args:
            rgb: (B, 3, H, W) in [-1, 1].
            polar: the true twins, (B, 4, H, W) in [-1, 1].

        Returns:
            The weighted terms (``adv``, ``l1``, ``stokes``, ``aolp``), ``g`` and ``d`` as floats.
        """
        dev = rgb.device.type
        adversarial = self.cfg.lambda_adv > 0
        self.d_pair.requires_grad_(False)
        with self._amp(dev):
            fake = self.g_ab(rgb)
            terms = paired_terms(fake, polar, self.a, self.cfg)
            if adversarial:
                terms["adv"] = self.cfg.lambda_adv * lsgan(self.d_pair(torch.cat([rgb, fake], 1)).float(), True)
            loss_g = sum(terms.values())
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        average_gradients(self.opt_g)
        self.opt_g.step()
        out = {k: float(v.detach()) for k, v in terms.items()}
        out["g"] = float(loss_g.detach())
        if adversarial:
            self.d_pair.requires_grad_(True)
            with self._amp(dev):
                real_pred = self.d_pair(torch.cat([rgb, polar], 1)).float()
                fake_pred = self.d_pair(torch.cat([rgb, fake.detach()], 1)).float()
                loss_d = 0.5 * (lsgan(real_pred, True) + lsgan(fake_pred, False))
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            average_gradients(self.opt_d)
            self.opt_d.step()
            out["d"] = float(loss_d.detach())
        return out
