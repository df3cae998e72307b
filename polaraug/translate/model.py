"""The constrained CycleGAN: two generators (RGB -> polarimetric, polarimetric -> RGB), two PatchGAN
discriminators, LSGAN + cycle losses, and the polarimetric constraint of the chosen mode.

Images are (B, C, H, W) in [-1, 1]; polarimetric ones are intensities (I0, I45, I90, I135) whose
physical values are y = (x + 1) / 2 in [0, 1]. Constraint modes (Blin, Ruffino et al.):

- ``none``: plain CycleGAN;
- ``relax``: + λ L_calib + μ L_optical on generated polarimetric images (PolarCycle's method, with the
  Moore–Penrose A† and the correct cone);
- ``project``: the RGB -> polarimetric generator ends in y <- A Π_C(A† y): every output is admissible and
  calibration-consistent by construction;
- ``proximal``: relax + ν Ω_C (squared distance to the cone).
"""

from __future__ import annotations

import torch
from torch import nn

from polaraug.physics import calibration_loss, optical_loss, proximal_distance, repair_intensities

from .config import TranslatorConfig
from .networks import PatchDiscriminator, ResnetGenerator, init_weights

RGB_CHANNELS, POLAR_CHANNELS = 3, 4


class ProjectedGenerator(nn.Module):
    """A generator whose polarimetric output is projected onto the admissible, calibration-consistent set."""

    def __init__(self, net: nn.Module, a: torch.Tensor):
        super().__init__()
        self.net = net
        self.register_buffer("a", a)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        with torch.autocast(device_type=out.device.type, enabled=False):  # physics in float32, never bf16
            y = (out.float() + 1) / 2
            return repair_intensities(y, self.a) * 2 - 1


class ImagePool:
    """History of generated images (Shrivastava et al.): with probability ½ a query returns an older image.
    Uses its own seeded generator so that a resumed run draws exactly as an uninterrupted one."""

    def __init__(self, size: int, seed: int = 0):
        self.size = size
        self.images: list[torch.Tensor] = []
        self.gen = torch.Generator().manual_seed(seed)

    def query(self, batch: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return batch
        out = []
        for img in batch.detach():
            img = img[None]
            if len(self.images) < self.size:
                self.images.append(img.clone())
                out.append(img)
            elif torch.rand(1, generator=self.gen).item() < 0.5:
                k = int(torch.randint(0, self.size, (1,), generator=self.gen).item())
                out.append(self.images[k].clone())
                self.images[k] = img.clone()
            else:
                out.append(img)
        return torch.cat(out)

    def state_dict(self) -> dict:
        return {"images": [t.cpu() for t in self.images], "gen": self.gen.get_state()}

    def load_state_dict(self, state: dict, device: str | torch.device = "cpu") -> None:
        self.images = [t.to(device) for t in state["images"]]
        self.gen.set_state(state["gen"])


def average_gradients(opt: torch.optim.Optimizer) -> None:
    """Under torch.distributed (torchrun), average the gradients of ``opt``'s parameters over all ranks
    in one coalesced all-reduce; a no-op on a single process. (The G and D updates alternate and freeze
    each other's parameters, which DDP's per-module wrappers do not support without extra passes.)"""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return
    world = torch.distributed.get_world_size()
    if world == 1:
        return
    grads = [p.grad for g in opt.param_groups for p in g["params"] if p.grad is not None]
    flat = torch.cat([g.reshape(-1) for g in grads])
    torch.distributed.all_reduce(flat)
    flat /= world
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


def lsgan(pred: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN loss: mean (D(x) - 1)² for real targets, mean D(x)² for fake ones."""
    return ((pred - 1.0) ** 2).mean() if real else (pred**2).mean()


class ConstrainedCycleGAN(nn.Module):
    """The four networks, their optimizers and one training step."""

    def __init__(self, cfg: TranslatorConfig, a: torch.Tensor, seed: int = 0):
        super().__init__()
        self.cfg = cfg
        torch.manual_seed(seed)
        self.register_buffer("a", torch.as_tensor(a, dtype=torch.float32))
        g_ab = init_weights(ResnetGenerator(RGB_CHANNELS, POLAR_CHANNELS, cfg.ngf, cfg.n_blocks))
        self.g_ab = ProjectedGenerator(g_ab, self.a.clone()) if cfg.mode == "project" else g_ab
        self.g_ba = init_weights(ResnetGenerator(POLAR_CHANNELS, RGB_CHANNELS, cfg.ngf, cfg.n_blocks))
        self.d_a = init_weights(PatchDiscriminator(RGB_CHANNELS, cfg.ndf, cfg.n_layers))
        self.d_b = init_weights(PatchDiscriminator(POLAR_CHANNELS, cfg.ndf, cfg.n_layers))
        betas = (cfg.beta1, 0.999)
        self.opt_g = torch.optim.Adam([*self.g_ab.parameters(), *self.g_ba.parameters()], lr=cfg.lr, betas=betas)
        self.opt_d = torch.optim.Adam([*self.d_a.parameters(), *self.d_b.parameters()], lr=cfg.lr, betas=betas)
        self.pool_a, self.pool_b = ImagePool(cfg.pool_size, seed + 1), ImagePool(cfg.pool_size, seed + 2)
        self.amp = False  # bf16 forward passes on CUDA when set (polaraug train sets it on GPUs)

    def polar_penalty(self, fake_b: torch.Tensor) -> dict[str, torch.Tensor]:
        """Auxiliary constraint terms of the mode on generated polarimetric images (x in [-1, 1])."""
        terms: dict[str, torch.Tensor] = {}
        with torch.autocast(device_type=fake_b.device.type, enabled=False):  # float32: cancellation near the cone
            return self._penalty_terms((fake_b.float() + 1) / 2, terms)

    def _penalty_terms(self, y: torch.Tensor, terms: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if self.cfg.mode in ("relax", "proximal"):
            terms["calib"] = self.cfg.lambda_calib * calibration_loss(y, self.a)
            terms["optical"] = self.cfg.mu_optical * optical_loss(y, self.a)
        if self.cfg.mode == "proximal":
            terms["proximal"] = self.cfg.nu_proximal * proximal_distance(y, self.a)
        return terms

    def set_discriminators_trainable(self, flag: bool) -> None:
        for p in [*self.d_a.parameters(), *self.d_b.parameters()]:
            p.requires_grad_(flag)

    def _amp(self, device_type: str):
        """bf16 autocast for forward passes on CUDA (``self.amp``); backward runs outside it."""
        return torch.autocast(device_type=device_type, dtype=torch.bfloat16, enabled=self.amp and device_type == "cuda")

    def training_step(self, real_a: torch.Tensor, real_b: torch.Tensor) -> dict[str, float]:
        """One generator update then one discriminator update; returns the loss terms."""
        dev = real_a.device.type
        self.set_discriminators_trainable(False)
        with self._amp(dev):
            fake_b, fake_a = self.g_ab(real_a), self.g_ba(real_b)
            rec_a, rec_b = self.g_ba(fake_b), self.g_ab(fake_a)
            terms = {
                "g_ab": lsgan(self.d_b(fake_b).float(), True),
                "g_ba": lsgan(self.d_a(fake_a).float(), True),
                "cycle_a": self.cfg.lambda_cycle * (rec_a.float() - real_a).abs().mean(),
                "cycle_b": self.cfg.lambda_cycle * (rec_b.float() - real_b).abs().mean(),
                **self.polar_penalty(fake_b),
            }
            loss_g = sum(terms.values())
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        average_gradients(self.opt_g)
        self.opt_g.step()

        self.set_discriminators_trainable(True)
        pool_b, pool_a = self.pool_b.query(fake_b), self.pool_a.query(fake_a)
        with self._amp(dev):
            loss_d_b = 0.5 * (lsgan(self.d_b(real_b).float(), True) + lsgan(self.d_b(pool_b.detach()).float(), False))
            loss_d_a = 0.5 * (lsgan(self.d_a(real_a).float(), True) + lsgan(self.d_a(pool_a.detach()).float(), False))
        self.opt_d.zero_grad(set_to_none=True)
        (loss_d_a + loss_d_b).backward()
        average_gradients(self.opt_d)
        self.opt_d.step()
        out = {k: float(v.detach()) for k, v in terms.items()}
        out.update(g=float(loss_g.detach()), d_a=float(loss_d_a.detach()), d_b=float(loss_d_b.detach()))
        return out

    @torch.no_grad()
    def translate(self, rgb: torch.Tensor) -> torch.Tensor:
        """RGB (B, 3, H, W) in [-1, 1] -> polarimetric intensities (B, 4, H, W) in [-1, 1]."""
        return self.g_ab(rgb)
