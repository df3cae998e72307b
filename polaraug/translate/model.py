"""The translator: the RGB -> polarimetric generator, and only what inference runs.

Images are (B, C, H, W) in [-1, 1]; polarimetric ones are intensities (I0, I45, I90, I135) whose
physical values are y = (x + 1) / 2 in [0, 1]. In constraint mode ``project`` the generator ends in
y <- A Π_C(A† y), so every output is admissible and calibration-consistent by construction. Training
state (the reverse generator, discriminators, optimizers, pools) lives with each training objective
(:mod:`polaraug.translate.cyclegan`).
"""

from __future__ import annotations

import torch
from torch import nn

from polaraug.nn import ResnetGenerator, init_weights
from polaraug.physics import intensities_from_stokes, repair_intensities

from .config import TranslatorConfig

RGB_CHANNELS, POLAR_CHANNELS = 3, 4


class ProjectedGenerator(nn.Module):
    """A generator whose polarimetric output is projected onto the admissible, calibration-consistent set."""

    def __init__(self, net: nn.Module, a: torch.Tensor):
        super().__init__()
        self.net = net
        self.register_buffer("a", a)

    def forward(self, x: torch.Tensor, context=None) -> torch.Tensor:
        out = self.net(x) if context is None else self.net(x, context)
        with torch.autocast(device_type=out.device.type, enabled=False):  # physics in float32, never bf16
            y = (out.float() + 1) / 2
            return repair_intensities(y, self.a) * 2 - 1


LUMA = (0.299, 0.587, 0.114)  # Rec. 601 weights: the RGB luminance the Stokes head's s0 starts from
EPS = 1e-6


class StokesHead(nn.Module):
    """A generator that predicts polarization parameters, turned into intensities y = A s.

    The network's four raw outputs per pixel are (δ, d, u, v):

    - s0 = 2 · sigmoid(logit(L) + δ), a residual on the input's luminance L (s0 = 2L at δ = 0: the
      unpolarized intensity equals the luminance), in [0, 2] (closed: sigmoid saturates in float32);
    - DoLP p = sigmoid(d) in (0, 1);
    - (cos 2φ, sin 2φ) = (u, v) / sqrt(u² + v² + ε): AoLP as a unit vector, with finite gradients where
      φ is undefined (u = v = 0);
    - s = (s0, s0 p cos 2φ, s0 p sin 2φ) is inside the cone by construction, and y = A s has no
      calibration residual.

    Args:
        net: a generator with 4 unbounded outputs (no tanh), (B, 3, H, W) -> (B, 4, H, W).
        a: (4, 3) calibration matrix.
    """

    def __init__(self, net: nn.Module, a: torch.Tensor):
        super().__init__()
        self.net = net
        self.register_buffer("a", a)
        self.register_buffer("luma", torch.tensor(LUMA).view(1, 3, 1, 1))

    def stokes(self, x: torch.Tensor, context=None) -> torch.Tensor:
        """Args: x (B, 3, H, W) RGB in [-1, 1]; context: the frames' context (see ``ResnetGenerator``).
        Returns: Stokes (B, 3, H, W) in [0, 1] intensity units."""
        raw = (self.net(x) if context is None else self.net(x, context)).float()
        with torch.autocast(device_type=raw.device.type, enabled=False):  # physics in float32
            lum = (((x.float() + 1) / 2) * self.luma).sum(1, keepdim=True).clamp(1e-3, 1 - 1e-3)
            s0 = 2 * torch.sigmoid(torch.logit(lum) + raw[:, :1])
            p = torch.sigmoid(raw[:, 1:2])
            uv = raw[:, 2:4] / torch.sqrt((raw[:, 2:4] ** 2).sum(1, keepdim=True) + EPS)
            return torch.cat([s0, s0 * p * uv], dim=1)

    def forward(self, x: torch.Tensor, context=None) -> torch.Tensor:
        """Args: x (B, 3, H, W) RGB in [-1, 1]; context as in :meth:`stokes`. Returns: intensities
        (B, 4, H, W) as 2y - 1."""
        s = self.stokes(x, context)
        with torch.autocast(device_type=s.device.type, enabled=False):  # y = A s in float32, never bf16
            return intensities_from_stokes(s, self.a) * 2 - 1


def build_generator(cfg: TranslatorConfig, a: torch.Tensor) -> nn.Module:
    """The RGB -> polarimetric generator of ``cfg``: its head and, for intensities in mode ``project``, the
    projection. Args: a (4, 3) calibration matrix. Returns: a module (B, 3, H, W) -> (B, 4, H, W)."""
    if cfg.head == "stokes":
        return StokesHead(init_weights(ResnetGenerator(RGB_CHANNELS, POLAR_CHANNELS, cfg.ngf, cfg.n_blocks,
                                                       tanh=False, upsample=cfg.upsample, downsample=cfg.downsample,
                                                       context=cfg.context, skips=cfg.skips)),
                          a.clone())
    net = init_weights(ResnetGenerator(RGB_CHANNELS, POLAR_CHANNELS, cfg.ngf, cfg.n_blocks, upsample=cfg.upsample,
                                       downsample=cfg.downsample, context=cfg.context, skips=cfg.skips))
    return ProjectedGenerator(net, a.clone()) if cfg.mode == "project" else net


class Translator(nn.Module):
    """RGB -> (I0, I45, I90, I135) for a camera with calibration matrix ``a``.

    Args:
        cfg: architecture (``ngf``, ``n_blocks``, ``head``) and constraint mode.
        a: (4, 3) calibration matrix of the polarimetric camera.
    """

    def __init__(self, cfg: TranslatorConfig, a: torch.Tensor):
        super().__init__()
        self.cfg = cfg
        self.register_buffer("a", torch.as_tensor(a, dtype=torch.float32))
        self.g = build_generator(cfg, self.a)

    def set_camera(self, a: torch.Tensor) -> None:
        """Translate for the camera of matrix ``a`` (4, 3) from now on (Stokes head: y = A s is exact for any
        camera; the intensities head learned one camera's intensities and refuses)."""
        if self.cfg.head != "stokes":
            raise ValueError("only a Stokes-head translator can change camera")
        a = a.to(self.a.device, torch.float32)
        self.a.copy_(a)
        self.g.a.copy_(a)

    @property
    def admissible(self) -> bool:
        """Whether every output is admissible and calibration-consistent by construction."""
        return self.cfg.head == "stokes" or self.cfg.mode == "project"

    def forward(self, rgb: torch.Tensor, context=None) -> torch.Tensor:
        """Args: rgb (B, 3, H, W) in [-1, 1], H and W multiples of 4; context: for crops, their frames'
        (canvas, boxes) (``cfg.context`` > 0; None: ``rgb`` are whole frames). Returns: (B, 4, H, W) in [-1, 1]."""
        return self.g(rgb, context)

    @torch.no_grad()
    def translate(self, rgb: torch.Tensor) -> torch.Tensor:
        """The forward pass without gradients: (B, 3, H, W) -> (B, 4, H, W), both in [-1, 1]."""
        return self.g(rgb)
