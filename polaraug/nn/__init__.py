"""Network building blocks shared by the translator and the reconstruction GAN: generators,
discriminators, adversarial losses, the image pool and padding to the networks' multiple."""

from .adversarial import (
                          GAN_LOSSES,
                          Adversarial,
                          feature_matching,
                          generator_turn,
                          gradient_penalty,
                          judge_both,
                          lsgan,
                          vanilla,
                          wasserstein,
)
from .networks import (
                          MultiScaleDiscriminator,
                          PatchDiscriminator,
                          ResnetBlock,
                          ResnetGenerator,
                          build_discriminator,
                          init_weights,
                          min_input_side,
)
from .padding import MIN_SIZE, MULTIPLE, pad_to_multiple
from .pool import ImagePool

__all__ = ["GAN_LOSSES", "MIN_SIZE", "MULTIPLE", "Adversarial", "ImagePool", "MultiScaleDiscriminator",
           "PatchDiscriminator", "ResnetBlock", "ResnetGenerator", "build_discriminator", "feature_matching",
           "generator_turn", "gradient_penalty", "init_weights", "judge_both", "lsgan", "min_input_side",
           "pad_to_multiple",
           "vanilla", "wasserstein"]
