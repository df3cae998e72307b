"""Reconstruction from sparse known pixels: a pixel-wise conditioned GAN (Ruffino et al.) with an explicit
mask, for RGB or polarimetric images."""
