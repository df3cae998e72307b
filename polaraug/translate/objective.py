"""What every training objective of the translator shares: the translator it trains, the camera, the bf16
switch and the checkpoint interface (``objective``, ``nets``, ``optimizers``)."""

from __future__ import annotations

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from polaraug.engine.distributed import average_gradients

from .config import TranslatorConfig
from .model import Translator


class TranslatorObjective(nn.Module):
    """Base of the training states: subclasses add their networks, ``opt_g``/``opt_d`` and ``training_step``.

    Args:
        cfg: architecture, head, constraint mode and loss weights.
        a: (4, 3) calibration matrix of the polarimetric camera.
        seed: seeds the initial weights (set before any network is built).
    """

    objective = ""
    nets: tuple[str, ...] = ()

    def __init__(self, cfg: TranslatorConfig, a: torch.Tensor, seed: int = 0):
        super().__init__()
        self.cfg = cfg
        torch.manual_seed(seed)
        self.register_buffer("a", torch.as_tensor(a, dtype=torch.float32))
        self.translator = Translator(cfg, self.a)
        self.amp = False  # bf16 forward passes on CUDA when set (polaraug train sets it on GPUs)
        # The generator's weight average (cfg.ema > 0), a checkpointed net like the others; a deep copy,
        # so it draws nothing from the RNG and the trained weights follow the same path with or without it.
        self.g_ema = None
        if cfg.ema > 0:
            self.g_ema = AveragedModel(self.translator.g, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema),
                                       use_buffers=True)
            self.nets = (*type(self).nets, "g_ema")

    @property
    def g_ab(self) -> nn.Module:
        """The RGB -> polarimetric generator (the translator's network)."""
        return self.translator.g

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The optimizers by checkpoint key."""
        return {"opt_g": self.opt_g, "opt_d": self.opt_d}

    def _amp(self, device_type: str):
        """bf16 autocast for forward passes on CUDA (``self.amp``); backward runs outside it."""
        return torch.autocast(device_type=device_type, dtype=torch.bfloat16, enabled=self.amp and device_type == "cuda")

    @torch.no_grad()
    def translate(self, rgb: torch.Tensor) -> torch.Tensor:
        """RGB (B, 3, H, W) in [-1, 1] -> polarimetric intensities (B, 4, H, W) in [-1, 1]."""
        return self.translator.translate(rgb)

    def _generator_step(self, terms_fn, update: bool):
        """The generator's part of a step: ``terms_fn()`` -> (terms, *samples) under gradients when ``update``
        (then one optimizer step), without them otherwise; the terms are kept as this step's log
        (``self._last_g``) so that critic-only steps repeat them.

        Returns: the samples ``terms_fn`` returned after its terms.
        """
        with torch.set_grad_enabled(update and torch.is_grad_enabled()):
            terms, *samples = terms_fn()
            loss_g = sum(terms.values())
            if update:
                self.opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                average_gradients(self.opt_g)
                self.opt_g.step()
                if self.g_ema is not None:
                    self.g_ema.update_parameters(self.g_ab)
        self._last_g = {**{k: float(v.detach()) for k, v in terms.items()}, "g": float(loss_g.detach())}
        return samples

