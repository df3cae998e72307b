"""Colour visualisations of polarimetric maps (uint8 RGB images, channels-last)."""

from .colorize import aolp_dolp_rgb, aolp_rgb, gray_rgb, signed_rgb

__all__ = ["aolp_dolp_rgb", "aolp_rgb", "gray_rgb", "signed_rgb"]
