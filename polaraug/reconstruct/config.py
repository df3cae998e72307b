"""Reconstruction settings: one dataclass with errors that name the field."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from polaraug.errors import ConfigError
from polaraug.nn.adversarial import GAN_LOSSES
from polaraug.nn.networks import min_input_side

from .masks import DEFAULT_DENSITY, MASK_KINDS


@dataclass(frozen=True)
class ReconstructConfig:
    """Architecture and training of the pixel-wise conditioned GAN.

    ``lam`` weighs the constraint term E‖c − m⊙G(z, c, m)‖² (mean over known pixel values, [0, 1] units)
    against the adversarial term (``gan_loss``: lsgan, vanilla or wgan-gp with gradient penalty
    ``lambda_gp`` and ``n_critic`` discriminator steps per generator step); ``pacgan`` packs that many
    samples per discriminator input (1 = off);
    ``nz`` noise channels; ``project`` passes polarimetric outputs through A Π_C(A† ·).
    """

    channels: int = 3
    nz: int = 4
    ngf: int = 16
    n_blocks: int = 3
    ndf: int = 16
    n_layers: int = 3
    lam: float = 1.0
    pacgan: int = 1
    density: float = DEFAULT_DENSITY
    mask: str = "random"
    project: bool = True
    crop: int = 64
    batch: int = 4
    lr: float = 2e-4
    beta1: float = 0.5
    gan_loss: str = "lsgan"
    n_critic: int = 1
    lambda_gp: float = 10.0
    # the latent-optimisation baseline (Yeh et al.): latent size, and per completion Adam steps, their
    # learning rate and the weight of the prior (adversarial) term against the contextual L1
    latent_dim: int = 64
    latent_steps: int = 200
    latent_lr: float = 0.05
    latent_prior: float = 0.003

    def __post_init__(self) -> None:
        if self.gan_loss not in GAN_LOSSES:
            raise ConfigError(f"reconstruct config: 'gan_loss' must be one of {GAN_LOSSES}, got {self.gan_loss!r}")
        if self.latent_dim < 1 or self.latent_steps < 0 or self.latent_lr <= 0 or self.latent_prior < 0:
            raise ConfigError("reconstruct config: 'latent_dim' must be >= 1, 'latent_steps' and 'latent_prior' "
                              ">= 0, 'latent_lr' > 0")
        if not isinstance(self.n_critic, int) or self.n_critic < 1 or self.lambda_gp < 0:
            raise ConfigError("reconstruct config: 'n_critic' must be an integer >= 1 and 'lambda_gp' >= 0")
        if self.crop < min_input_side(self.n_layers):
            raise ConfigError(f"reconstruct config: a discriminator of {self.n_layers} layers needs crops of at "
                              f"least {min_input_side(self.n_layers)} px, got 'crop' {self.crop}")
        for name in ("channels", "ngf", "n_blocks", "ndf", "n_layers", "crop", "batch", "pacgan"):
            if getattr(self, name) < 1:
                raise ConfigError(f"reconstruct config: {name!r} must be >= 1, got {getattr(self, name)}")
        if self.nz < 0 or self.lam < 0:
            raise ConfigError("reconstruct config: 'nz' and 'lambda' must be >= 0")
        if self.channels not in (3, 4):
            raise ConfigError(f"reconstruct config: 'channels' must be 3 (RGB) or 4 (I0..I135), got {self.channels}")
        if self.batch % self.pacgan:
            raise ConfigError(f"reconstruct config: batch {self.batch} is not a multiple of pacgan {self.pacgan}")
        if self.crop % 4:
            raise ConfigError(f"reconstruct config: 'crop' must be a multiple of 4, got {self.crop}")
        if self.mask not in MASK_KINDS:
            raise ConfigError(f"reconstruct config: 'mask' must be one of {MASK_KINDS}, got {self.mask!r}")
        if not 0 < self.density <= 1:
            raise ConfigError(f"reconstruct config: 'density' must be in (0, 1], got {self.density}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict, where: str = "config") -> ReconstructConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {unknown}")
        return cls(**d)
