"""The constrained CycleGAN objective (Blin, Ruffino et al.): the translator plus the reverse generator,
two PatchGAN discriminators, LSGAN + cycle losses, and the polarimetric constraint of the chosen mode.

Constraint modes:

- ``none``: plain CycleGAN;
- ``relax``: + λ L_calib + μ L_optical on generated polarimetric images (PolarCycle's method, with the
  Moore–Penrose A† and the correct cone);
- ``project``: the translator ends in y <- A Π_C(A† y) (:class:`~polaraug.translate.model.Translator`);
- ``proximal``: relax + ν Ω_C (squared distance to the cone).

This module is training state only: inference needs just :class:`Translator`.
"""

from __future__ import annotations

import torch

from polaraug.engine.distributed import average_gradients
from polaraug.errors import ConfigError
from polaraug.nn import (
    Adversarial,
    ImagePool,
    ResnetGenerator,
    build_discriminator,
    generator_turn,
    gradient_penalty,
    init_weights,
    judge_both,
)
from polaraug.physics import calibration_loss, optical_loss, proximal_distance

from .config import TranslatorConfig
from .losses import paired_terms
from .model import POLAR_CHANNELS, RGB_CHANNELS
from .objective import TranslatorObjective

NETS = ("g_ab", "g_ba", "d_a", "d_b")


class ConstrainedCycleGAN(TranslatorObjective):
    """The four networks, their optimizers and image pools, and one training step.

    Args:
        cfg: architecture, constraint mode and optimizer settings.
        a: (4, 3) calibration matrix of the polarimetric camera.
        seed: seeds the initial weights and the pools' draws.
    """

    objective = "cyclegan"
    nets = NETS

    def __init__(self, cfg: TranslatorConfig, a: torch.Tensor, seed: int = 0):
        super().__init__(cfg, a, seed)
        self.g_ba = init_weights(ResnetGenerator(POLAR_CHANNELS, RGB_CHANNELS, cfg.ngf, cfg.n_blocks))
        if cfg.lambda_fm > 0:  # unpaired: D's activations on a real and a generated frame of other scenes
            raise ConfigError("translator config: feature matching ('lambda_fm') needs paired frames; the CycleGAN "
                              "objective cannot use it")
        if cfg.d_view != "intensities":  # the unpaired D_B judges intensities alone; no RGB beside them
            raise ConfigError(f"translator config: 'd_view' {cfg.d_view!r} is for the paired objective; the "
                              "CycleGAN's discriminators see intensities only")
        self.d_a = build_discriminator(RGB_CHANNELS, cfg.ndf, cfg.n_layers, cfg.d_scales)
        self.d_b = build_discriminator(POLAR_CHANNELS, cfg.ndf, cfg.n_layers, cfg.d_scales)
        self.adversarial = Adversarial(cfg.gan_loss)
        self._last_g: dict[str, float] = {}  # the generator's terms at its last update (n_critic > 1)
        betas = (cfg.beta1, 0.999)
        self.opt_g = torch.optim.Adam([*self.g_ab.parameters(), *self.g_ba.parameters()], lr=cfg.lr, betas=betas)
        self.opt_d = torch.optim.Adam([*self.d_a.parameters(), *self.d_b.parameters()], lr=cfg.lr, betas=betas)
        # a Wasserstein critic judges the current generator: no history of older samples
        pool = 0 if self.adversarial.wasserstein else cfg.pool_size
        self.pool_a, self.pool_b = ImagePool(pool, seed + 1), ImagePool(pool, seed + 2)

    def polar_penalty(self, fake_b: torch.Tensor) -> dict[str, torch.Tensor]:
        """Auxiliary constraint terms of the mode on generated polarimetric images (B, 4, H, W) in [-1, 1]."""
        terms: dict[str, torch.Tensor] = {}
        with torch.autocast(device_type=fake_b.device.type, enabled=False):  # float32: cancellation near the cone
            y = (fake_b.float() + 1) / 2
            if self.cfg.mode in ("relax", "proximal"):
                terms["calib"] = self.cfg.lambda_calib * calibration_loss(y, self.a)
                terms["optical"] = self.cfg.mu_optical * optical_loss(y, self.a)
            if self.cfg.mode == "proximal":
                terms["proximal"] = self.cfg.nu_proximal * proximal_distance(y, self.a)
        return terms

    def set_discriminators_trainable(self, flag: bool) -> None:
        for p in [*self.d_a.parameters(), *self.d_b.parameters()]:
            p.requires_grad_(flag)

    def discriminator_loss(self, d, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """One discriminator's loss on real (B, C, H, W) and generated (detached) images, with the gradient
        penalty for wgan-gp."""
        loss = self.adversarial.discriminator(*judge_both(d.outputs, real, fake))
        if self.adversarial.wasserstein:
            loss = loss + self.cfg.lambda_gp * gradient_penalty(d.outputs, real, fake)
        return loss

    def _generator_terms(self, real_a: torch.Tensor, real_b: torch.Tensor,
                         anchor: tuple[torch.Tensor, torch.Tensor] | None, dev: str):
        """The generators' weighted loss terms and their samples (fake_b (B, 4, H, W), fake_a (B, 3, H, W))."""
        with self._amp(dev):
            fake_b, fake_a = self.g_ab(real_a), self.g_ba(real_b)
            rec_a, rec_b = self.g_ba(fake_b), self.g_ab(fake_a)
            terms = {
                "g_ab": self.adversarial.generator(self.d_b.outputs(fake_b)),
                "g_ba": self.adversarial.generator(self.d_a.outputs(fake_a)),
                "cycle_a": self.cfg.lambda_cycle * (rec_a.float() - real_a).abs().mean(),
                "cycle_b": self.cfg.lambda_cycle * (rec_b.float() - real_b).abs().mean(),
                **self.polar_penalty(fake_b),
            }
            if anchor is not None and self.cfg.lambda_anchor > 0:
                pairs = paired_terms(self.g_ab(anchor[0]), anchor[1], self.a, self.cfg)
                terms["anchor"] = self.cfg.lambda_anchor * sum(pairs.values())
        return terms, fake_b, fake_a

    def training_step(self, real_a: torch.Tensor, real_b: torch.Tensor,
                      anchor: tuple[torch.Tensor, torch.Tensor] | None = None) -> dict[str, float]:
        """One generator update (every ``n_critic``-th step) then one discriminator update.

        Args:
            real_a: RGB batch (B, 3, H, W) in [-1, 1].
            real_b: polarimetric batch (B, 4, H, W) in [-1, 1] (unpaired with ``real_a``).
            anchor: rendered pairs (RGB (B, 3, H, W), true intensities (B, 4, H, W)) whose paired loss,
                weighted by λ_anchor, keeps the physics learned in pretraining during adaptation.

        Returns:
            The loss terms as floats (``g_ab``, ``g_ba``, ``cycle_a``, ``cycle_b``, the mode's penalties,
            ``anchor``, ``g``: on critic-only steps those of the last generator update; ``d_a``, ``d_b``).
        """
        dev = real_a.device.type
        update = generator_turn(self.opt_d, self.cfg.n_critic)
        if update or not self._last_g:  # a critic-only step right after a resume still logs real terms
            self.set_discriminators_trainable(False)
            fake_b, fake_a = self._generator_step(lambda: self._generator_terms(real_a, real_b, anchor, dev), update)
        else:  # critic-only step: the current generators' samples, no generator graph; the log repeats the
            # generators' last terms so that every row has every column
            with torch.no_grad(), self._amp(dev):
                fake_b, fake_a = self.g_ab(real_a), self.g_ba(real_b)
        out = dict(self._last_g)

        self.set_discriminators_trainable(True)
        pool_b, pool_a = self.pool_b.query(fake_b.detach()), self.pool_a.query(fake_a.detach())
        with self._amp(dev):
            loss_d_b = self.discriminator_loss(self.d_b, real_b, pool_b.detach())
            loss_d_a = self.discriminator_loss(self.d_a, real_a, pool_a.detach())
        self.opt_d.zero_grad(set_to_none=True)
        (loss_d_a + loss_d_b).backward()
        average_gradients(self.opt_d)
        self.opt_d.step()
        out.update(d_a=float(loss_d_a.detach()), d_b=float(loss_d_b.detach()))
        return out
