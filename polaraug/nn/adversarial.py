"""Adversarial losses on discriminator outputs (any shape, e.g. PatchGAN maps (B, 1, H', W')).

Functional core (``lsgan``, ``vanilla``, ``wasserstein``, ``gradient_penalty``, ``feature_matching``) and
:class:`Adversarial`, the generator and discriminator losses of one kind over one or several discriminator
scales. Kinds:

- ``lsgan``: least squares (Mao et al.), the CycleGAN reference's choice;
- ``vanilla``: the original GAN's binary cross-entropy on logits, the generator's term non-saturating
  (it maximises log D(G(x)) rather than minimising log(1 − D(G(x))));
- ``wgan-gp``: Wasserstein critic with gradient penalty (Gulrajani et al.): no image pool, several critic
  steps per generator step (``n_critic``), λ_gp E(‖∇D(x̂)‖ − 1)² on random interpolates x̂.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from polaraug.errors import ConfigError

GAN_LOSSES = ("lsgan", "vanilla", "wgan-gp")


def lsgan(pred: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN loss (Mao et al.).

    Args:
        pred: discriminator outputs, any shape.
        real: whether the target is "real" (1) or "fake" (0).

    Returns:
        Scalar mean (D(x) - 1)² for real targets, mean D(x)² for fake ones.
    """
    return ((pred - 1.0) ** 2).mean() if real else (pred**2).mean()


def vanilla(pred: torch.Tensor, real: bool) -> torch.Tensor:
    """Binary cross-entropy on logits: −log σ(D(x)) for real targets, −log(1 − σ(D(x))) for fake ones.

    Used with ``real=True`` on generated samples it is the non-saturating generator loss.

    Args:
        pred: discriminator logits, any shape.
        real: the target.

    Returns:
        Scalar mean over ``pred``.
    """
    return F.binary_cross_entropy_with_logits(pred, torch.full_like(pred, 1.0 if real else 0.0))


def wasserstein(pred: torch.Tensor, real: bool) -> torch.Tensor:
    """The critic's Wasserstein term: −E D(x) for real targets, +E D(x) for fake ones."""
    return -pred.mean() if real else pred.mean()


def gradient_penalty(critic: Callable[[torch.Tensor], Sequence[torch.Tensor]], real: torch.Tensor,
                     fake: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """E (‖∇ₓ D(x̂)‖₂ − 1)² on x̂ = ε real + (1 − ε) fake, ε ~ U(0, 1) per sample (Gulrajani et al.).

    D(x̂) is the sample's critic value as the loss sees it: the mean over its patches, averaged over scales
    (the gradient of a sum over patches would hold the critic to a slope ~patches times smaller). Computed
    in float32 (double backward under bf16 is not worth its rounding).

    Args:
        critic: maps (B, C, H, W) to its outputs, one tensor per scale.
        real, fake: (B, C, H, W); ``fake`` detached.
        generator: draws ε (the global RNG when None).

    Returns:
        Scalar penalty; the graph is kept so that it trains the critic.
    """
    real, fake = real.detach().float(), fake.detach().float()
    eps = torch.rand(real.shape[0], 1, 1, 1, generator=generator).to(real.device)
    x = (eps * real + (1 - eps) * fake).requires_grad_(True)
    with torch.autocast(device_type=x.device.type, enabled=False):
        outs = critic(x)
        value = torch.stack([o.float().reshape(len(o), -1).mean(1) for o in outs]).mean(0)  # (B,)
        (grad,) = torch.autograd.grad(value.sum(), x, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def feature_matching(real_feats: Sequence[Sequence[torch.Tensor]],
                     fake_feats: Sequence[Sequence[torch.Tensor]]) -> torch.Tensor:
    """pix2pixHD's discriminator feature-matching loss: mean L1 between the intermediate activations of
    the discriminator on real and on generated inputs, over scales and layers (the outputs excluded).

    A plain mean: pix2pixHD weighs each of the n_layers + 1 layers 4 / (n_layers + 1) and each scale
    1 / scales, i.e. 4 × this mean, so its λ_feat 10 is λ_fm 40 here. (Its adversarial term is summed over
    scales; here it is averaged.)

    Args:
        real_feats, fake_feats: per scale, the layer activations then the output (as
            :meth:`PatchDiscriminator.features` returns them); the inputs must be paired (same conditioning).

    Returns:
        Scalar; the real activations are constants.
    """
    terms = [(f.float() - r.detach().float()).abs().mean()
             for rs, fs in zip(real_feats, fake_feats, strict=True) for r, f in zip(rs[:-1], fs[:-1], strict=True)]
    return torch.stack(terms).mean()


def judge_both(critic: Callable[[torch.Tensor], Sequence[torch.Tensor]], real: torch.Tensor,
               fake: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The discriminator's outputs on real and on generated inputs from one batched call.

    One call on 2B samples costs less than two on B on a CPU (fewer, larger convolutions: measured in
    ``benchmarks/train_step.py``) and gives the same values, because the discriminators normalize each
    sample on its own (instance norm, no batch statistics).

    Args:
        critic: per scale, the patch maps of a batch (``PatchDiscriminator.outputs``).
        real, fake: (B, C, H, W) each.

    Returns:
        (per-scale outputs on ``real``, per-scale outputs on ``fake``).
    """
    outs = critic(torch.cat([real, fake]))
    b = real.shape[0]
    return [o[:b] for o in outs], [o[b:] for o in outs]


_LOSSES = {"lsgan": lsgan, "vanilla": vanilla, "wgan-gp": wasserstein}


class Adversarial:
    """Generator and discriminator losses of one kind, averaged over discriminator scales.

    Args:
        kind: one of :data:`GAN_LOSSES`.

    Raises:
        ConfigError: an unknown kind.
    """

    def __init__(self, kind: str = "lsgan"):
        if kind not in _LOSSES:
            raise ConfigError(f"adversarial loss must be one of {GAN_LOSSES}, got {kind!r}")
        self.kind = kind
        self._f = _LOSSES[kind]

    @property
    def wasserstein(self) -> bool:
        """Whether this is the Wasserstein critic (gradient penalty, no image pool, n_critic)."""
        return self.kind == "wgan-gp"

    def generator(self, fake_preds: Sequence[torch.Tensor]) -> torch.Tensor:
        """The generator's term: its samples judged real. Args: per scale, D's outputs on generated inputs."""
        return torch.stack([self._f(p.float(), True) for p in fake_preds]).mean()

    def discriminator(self, real_preds: Sequence[torch.Tensor], fake_preds: Sequence[torch.Tensor]) -> torch.Tensor:
        """The discriminator's term (without the gradient penalty): ½ [L(real, 1) + L(fake, 0)] per scale for
        lsgan and vanilla, E D(fake) − E D(real) for the critic; averaged over scales."""
        scale = 1.0 if self.wasserstein else 0.5
        return torch.stack([scale * (self._f(r.float(), True) + self._f(f.float(), False))
                            for r, f in zip(real_preds, fake_preds, strict=True)]).mean()


def generator_turn(opt_d: torch.optim.Optimizer, n_critic: int) -> bool:
    """Whether the generator updates at this step: every ``n_critic``-th discriminator step, counted from
    the discriminator optimizer's own step count (saved in checkpoints, so a resume keeps the phase).

    Args:
        opt_d: the discriminator's Adam-like optimizer (its per-parameter state holds ``step``).
        n_critic: discriminator steps per generator step (1: both every step).

    Returns:
        True when the generator should update now.
    """
    if n_critic == 1:
        return True
    for group in opt_d.param_groups:
        for p in group["params"]:
            state = opt_d.state.get(p, {})
            if "step" in state:
                return int(state["step"]) % n_critic == 0
    return True  # before the first discriminator step
