"""Reconstruction baselines for ``reconstruct sweep``, scored exactly like the pixel-wise conditioned GAN:

- ``context-encoder`` (Pathak et al. 2016): a deterministic encoder–decoder F(c⊙m, m) trained with an L2
  reconstruction loss plus a small adversarial term (λ_rec 0.999, λ_adv 0.001 as in the paper). Pathak's
  L2 covers the missing region; here the whole crop is the target (known pixels included), so the
  constraint MSE measures the same thing for every method.
- ``latent-optimisation`` (Yeh et al. 2017, semantic inpainting): an unconditional generator G(w) trained
  as a plain GAN; completing an image searches the latent w so that G(w) matches the known pixels
  (contextual L1 on m⊙(G(w) − c)) under a prior term λ_p L_GAN(D(G(w)), real), then returns G(w).

Both offer the interface the sweep scores (``complete(c, m, generator, keep_known)``), a ``training_step``
and state dicts for a small checkpoint; shapes as in :mod:`polaraug.reconstruct.model`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from torch import nn

from polaraug.engine import DistContext, Schedule, TrainLoop, TrainResult, pick_device
from polaraug.errors import ConfigError, InputError
from polaraug.io.atomic import atomic_path, write_text
from polaraug.io.checkpoints import load_state
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
from .data import Crops

BASELINES = ("context-encoder", "latent-optimisation")
FORMAT = "polaraug-reconstruct-baseline/1"
REC_WEIGHT, ADV_WEIGHT = 0.999, 0.001  # Pathak et al.'s joint loss


def _project(out: torch.Tensor, a: torch.Tensor | None) -> torch.Tensor:
    """Polarimetric outputs onto the admissible, calibration-consistent set (``a`` None: unchanged)."""
    if a is None:
        return out
    return repair_intensities((out.float() + 1) / 2, a) * 2 - 1


class _Baseline(nn.Module):
    """Shared state: config, camera matrix (projection), discriminator, adversarial loss, optimizers."""

    method = ""
    nets: tuple[str, ...] = ()

    def __init__(self, cfg: ReconstructConfig, a: torch.Tensor | None = None, seed: int = 0):
        super().__init__()
        if cfg.channels == 4 and cfg.project and a is None:
            raise ConfigError("a projected polarimetric (4-channel) model needs the camera's calibration matrix")
        self.cfg = cfg
        torch.manual_seed(seed)
        self.register_buffer("a", a.float() if a is not None and cfg.project else None)
        self.d = init_weights(PatchDiscriminator(cfg.channels, cfg.ndf, cfg.n_layers))
        self.adversarial = Adversarial(cfg.gan_loss)

    def _optimizers(self, g: nn.Module) -> None:
        betas = (self.cfg.beta1, 0.999)
        self.opt_g = torch.optim.Adam(g.parameters(), lr=self.cfg.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=self.cfg.lr, betas=betas)

    def _d_step(self, real: torch.Tensor, fake: torch.Tensor) -> float:
        """One discriminator update on real and (detached) generated crops; returns its loss."""
        self.d.requires_grad_(True)
        fake = fake.detach()
        loss = self.adversarial.discriminator(*judge_both(self.d.outputs, real, fake))
        if self.adversarial.wasserstein:
            loss = loss + self.cfg.lambda_gp * gradient_penalty(self.d.outputs, real, fake)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        return loss.item()


class ContextEncoder(_Baseline):
    """F(c⊙m, m): a ResNet encoder–decoder without noise (one answer per input)."""

    method = "context-encoder"
    nets = ("g", "d")

    def __init__(self, cfg: ReconstructConfig, a: torch.Tensor | None = None, seed: int = 0):
        super().__init__(cfg, a, seed)
        self.g = init_weights(ResnetGenerator(cfg.channels + 1, cfg.channels, cfg.ngf, cfg.n_blocks))
        self._optimizers(self.g)

    def forward(self, c: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        """Args: c (B, C, H, W) in [-1, 1] (known pixels matter), m (B, 1, H, W). Returns: (B, C, H, W)."""
        return _project(self.g(torch.cat([c * m, m], 1)), self.a)

    def training_step(self, real: torch.Tensor, m: torch.Tensor, z: torch.Tensor | None = None) -> dict[str, float]:
        """One generator update (every ``n_critic``-th step) then one discriminator update; ``z`` is ignored
        (the encoder is deterministic).

        Returns: ``rec`` (L2 in [0, 1] units), ``g_adv`` and ``d`` as floats.
        """
        update = generator_turn(self.opt_d, self.cfg.n_critic)
        with torch.set_grad_enabled(update and torch.is_grad_enabled()):
            fake = self(real, m)
            self.d.requires_grad_(False)
            rec = (((fake - real) / 2) ** 2).mean()
            adv = self.adversarial.generator([self.d(fake)])
            if update:
                self.opt_g.zero_grad(set_to_none=True)
                (REC_WEIGHT * rec + ADV_WEIGHT * adv).backward()
                self.opt_g.step()
        return {"rec": rec.item(), "g_adv": adv.item(), "d": self._d_step(real, fake)}

    @torch.no_grad()
    def complete(self, c: torch.Tensor, m: torch.Tensor, generator: torch.Generator | None = None,
                 keep_known: bool = True) -> torch.Tensor:
        """F(c⊙m, m), known pixels copied from ``c`` when ``keep_known`` (``generator`` unused)."""
        out = self(c, m)
        return torch.where(m > 0, c, out) if keep_known else out


class LatentGenerator(nn.Module):
    """DCGAN-style G(w): w (B, latent) -> (B, C, crop, crop) in [-1, 1], four 2x upsamplings from crop/16."""

    def __init__(self, channels: int, latent: int, ngf: int, crop: int):
        super().__init__()
        if crop % 16:
            raise ConfigError(f"latent-optimisation needs a crop that is a multiple of 16, got {crop}")
        self.base, ch = crop // 16, ngf * 8
        self.fc = nn.Linear(latent, ch * self.base**2)
        layers: list[nn.Module] = []
        for _ in range(4):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(ch, max(ch // 2, ngf), 3, padding=1,
                                                                              bias=False),
                       nn.InstanceNorm2d(max(ch // 2, ngf)), nn.ReLU(True)]
            ch = max(ch // 2, ngf)
        layers += [nn.Conv2d(ch, channels, 3, padding=1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.ch0 = ngf * 8

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return self.net(torch.relu(self.fc(w)).view(len(w), self.ch0, self.base, self.base))


class LatentOptimisation(_Baseline):
    """Yeh et al.'s semantic inpainting: an unconditional GAN, then a latent search per image."""

    method = "latent-optimisation"
    nets = ("g", "d")

    def __init__(self, cfg: ReconstructConfig, a: torch.Tensor | None = None, seed: int = 0):
        super().__init__(cfg, a, seed)
        self.g = init_weights(LatentGenerator(cfg.channels, cfg.latent_dim, cfg.ngf, cfg.crop))
        self._optimizers(self.g)

    def sample(self, w: torch.Tensor) -> torch.Tensor:
        """G(w), projected for polarimetric models: (B, latent) -> (B, C, crop, crop)."""
        return _project(self.g(w), self.a)

    def training_step(self, real: torch.Tensor, m: torch.Tensor | None = None,
                      z: torch.Tensor | None = None) -> dict[str, float]:
        """One unconditional GAN step on real crops (the generator every ``n_critic``-th step; ``m`` and ``z``
        unused: the latents are drawn here).

        Returns: ``g_adv`` and ``d`` as floats.
        """
        w = torch.randn(len(real), self.cfg.latent_dim, device=real.device)
        update = generator_turn(self.opt_d, self.cfg.n_critic)
        with torch.set_grad_enabled(update and torch.is_grad_enabled()):
            fake = self.sample(w)
            self.d.requires_grad_(False)
            adv = self.adversarial.generator([self.d(fake)])
            if update:
                self.opt_g.zero_grad(set_to_none=True)
                adv.backward()
                self.opt_g.step()
        return {"g_adv": adv.item(), "d": self._d_step(real, fake)}

    def complete(self, c: torch.Tensor, m: torch.Tensor, generator: torch.Generator | None = None,
                 keep_known: bool = True) -> torch.Tensor:
        """G(ŵ) with ŵ = argmin_w |m⊙(G(w) − c)|₁ / |m| + λ_p L_GAN(D(G(w)), real), by Adam from a random w.

        Args:
            c: (B, C, crop, crop) in [-1, 1]; m: (B, 1, crop, crop); generator: draws the initial w.
            keep_known: copy the known pixels from ``c``.

        Returns:
            (B, C, crop, crop) in [-1, 1].
        """
        if tuple(c.shape[-2:]) != (self.cfg.crop, self.cfg.crop):
            raise InputError(f"latent-optimisation completes {self.cfg.crop}x{self.cfg.crop} crops (its "
                             f"generator's size), got {tuple(c.shape[-2:])}")
        w = torch.randn(len(c), self.cfg.latent_dim, generator=generator).to(c.device).requires_grad_(True)
        opt = torch.optim.Adam([w], lr=self.cfg.latent_lr)
        params = [*self.g.parameters(), *self.d.parameters()]
        flags = [p.requires_grad for p in params]
        for p in params:  # only w moves
            p.requires_grad_(False)
        try:
            with torch.enable_grad():
                for _ in range(self.cfg.latent_steps):
                    out = self.sample(w)
                    context = ((out - c).abs() * m).sum() / (m.sum() * c.shape[1]).clamp(min=1)
                    loss = context + self.cfg.latent_prior * self.adversarial.generator([self.d(out)])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
        finally:
            for p, f in zip(params, flags, strict=True):
                p.requires_grad_(f)
        with torch.no_grad():
            out = self.sample(w)
        return torch.where(m > 0, c, out) if keep_known else out


MODELS = {m.method: m for m in (ContextEncoder, LatentOptimisation)}


def build_baseline(method: str, cfg: ReconstructConfig, a: torch.Tensor | None = None, seed: int = 0) -> _Baseline:
    """A new baseline of ``method`` (one of :data:`BASELINES`). Raises ConfigError for an unknown one."""
    if method not in MODELS:
        raise ConfigError(f"unknown reconstruction baseline {method!r} (choose from {', '.join(BASELINES)})")
    return MODELS[method](cfg, a, seed)


def save_baseline(model: _Baseline, path: str | os.PathLike, step: int, seed: int) -> Path:
    """Write the baseline (networks, optimizers, config, camera matrix) atomically."""
    state = {"format": FORMAT, "method": model.method, "config": model.cfg.to_dict(), "step": step, "seed": seed,
             "calibration": model.a.detach().cpu() if model.a is not None else torch.empty(0),
             **{n: getattr(model, n).state_dict() for n in model.nets},
             "opt_g": model.opt_g.state_dict(), "opt_d": model.opt_d.state_dict()}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def load_baseline(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[_Baseline, dict]:
    """The baseline of a checkpoint with its optimizers (resumable) on ``device``, and the raw state."""
    state = load_state(path, FORMAT, "reconstruction baseline")
    cfg = ReconstructConfig.from_dict(state["config"], f"{path} (config)")
    a = state["calibration"] if state["calibration"].numel() else None
    model = build_baseline(state["method"], cfg, a, state["seed"])
    for n in model.nets:
        getattr(model, n).load_state_dict(state[n])
    model.to(device)
    model.opt_g.load_state_dict(state["opt_g"])
    model.opt_d.load_state_dict(state["opt_d"])
    return model, state


def train_baseline(method: str, data: Crops, run_dir: str | Path, cfg: ReconstructConfig, steps: int,
                   seed: int = 0, *, device: str | None = None, checkpoint_every: int = 500,
                   progress: bool = True) -> TrainResult:
    """Train (or resume) a baseline in ``run_dir`` up to ``steps`` steps on the sweep's crops and masks.

    Args:
        method: one of :data:`BASELINES`.
        data: crops, masks (and noise, unused) per step: the same batches the pixel-wise GAN trains on.
        run_dir: ``config.json``, ``checkpoints/last.pt``, ``log.csv``.
        cfg, steps, seed: as for :func:`polaraug.reconstruct.train.train`.

    Returns:
        The steps done and the paths of the checkpoint and the log.
    """
    run, dev = Path(run_dir), pick_device(device)
    ckpt = run / "checkpoints" / "last.pt"
    identity = {"method": method, "config": cfg.to_dict(), "seed": seed, "data": data.identity()}
    if ckpt.exists():
        if json.loads((run / "config.json").read_text()) != json.loads(json.dumps(identity)):
            raise InputError(f"{ckpt}: this run was started with other settings, seed or data; use a new folder")
        model, state = load_baseline(ckpt, dev)
        start = int(state["step"])
    else:
        write_text(run / "config.json", json.dumps(identity, indent=2) + "\n")
        a = torch.from_numpy(data.camera.matrix()).float() if data.camera is not None else None
        model, start = build_baseline(method, cfg, a, seed).to(dev), 0

    def step_fn(step: int) -> dict[str, float]:
        real, m, _ = (t.to(dev) for t in data.batch_at(step))
        return model.training_step(real, m)

    loop = TrainLoop(step_fn, Schedule(total=steps, sample_every=10**9, checkpoint_every=checkpoint_every),
                     start=start, ctx=DistContext(0, 1, dev), run_dir=run, checkpoint=ckpt, progress=progress,
                     desc=method)
    loop.add_callback("on_checkpoint", lambda info: save_baseline(model, ckpt, info.step, seed))
    return loop.run()
