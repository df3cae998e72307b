"""Network building blocks shared by the translator and the reconstruction GAN: generators,
discriminators, adversarial losses, the image pool and padding to the networks' multiple."""

from .adversarial import lsgan
from .networks import PatchDiscriminator, ResnetBlock, ResnetGenerator, init_weights
from .padding import MIN_SIZE, MULTIPLE, pad_to_multiple
from .pool import ImagePool

__all__ = ["MIN_SIZE", "MULTIPLE", "ImagePool", "PatchDiscriminator", "ResnetBlock", "ResnetGenerator",
           "init_weights", "lsgan", "pad_to_multiple"]
