"""Reconstruction from sparse known pixels: a pixel-wise conditioned GAN (Ruffino et al.) with an explicit
mask, for RGB or polarimetric images. What other stages use: :func:`load_reconstructor` and
:func:`fill_stored` (``validate --repair reconstruct``)."""

from .apply import fill, fill_stored
from .checkpoint import load_reconstructor
from .model import Reconstructor

__all__ = ["Reconstructor", "fill", "fill_stored", "load_reconstructor"]
