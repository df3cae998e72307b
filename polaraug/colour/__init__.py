"""Colour polarization captures: reading them (per-angle RGB images, raw colour DoFP mosaics), their
per-colour statistics, and their conversion into a paired RGB <-> polarimetric set for ``train --paired``.

The physics (12-channel layout, per-colour Stokes, luminance, demosaicing) is in ``polaraug.physics.colour``.
"""

from .captures import ColourFrame, read_colour_frame, scan_colour
from .pairs import PairsReport, colour_to_pairs
from .stats import colour_report

__all__ = ["ColourFrame", "PairsReport", "colour_report", "colour_to_pairs", "read_colour_frame", "scan_colour"]
