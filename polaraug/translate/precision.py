"""The bit depth ``translate`` writes, and the disk space its frames take.

A translation's default depth is the target camera's: its ``bit_depth`` rounded up to one of DEPTHS (a
10-bit camera's frames are 10-bit), or DEFAULT_DEPTH for a camera file without one (the built-in translator's
ideal camera). 8 bits are plenty for what a translator knows: the built-in one's held-out error is 27-30 dB
PSNR, an RMS error of 3-4.5 % of full scale (8-12 steps of 8 bits), against 0.11 % for 8-bit rounding. Depths
above 8 are stored in 16-bit PNGs with their low bits zero and an sBIT chunk (:mod:`polaraug.io.significant`).

The sizes are measured by ``benchmarks/output_size.py`` (translations of 1280x720 frames by the built-in
translator): BYTES_PER_PIXEL holds the largest frame's PNG size per pixel at each depth, so the space check
errs on the safe side for frames like those; noisier frames (a sensor model's) compress less.
"""

from __future__ import annotations

from polaraug.cameras import Camera
from polaraug.errors import InputError

DEPTHS = (8, 10, 12, 16)
DEFAULT_DEPTH = 8
# PNG bytes per pixel (4 channels), the largest of 8 measured 1280x720 frames (benchmarks/output_size.py)
BYTES_PER_PIXEL = {8: 1.86, 10: 3.89, 12: 4.97, 16: 6.82}


def check_bits(bits: int | None) -> None:
    """Refuse a depth ``translate`` cannot write.

    Args:
        bits: the requested depth, or None (the camera's).

    Raises:
        InputError: not one of DEPTHS.
    """
    if bits is not None and bits not in DEPTHS:
        raise InputError(f"--bits must be one of {', '.join(map(str, DEPTHS))}, got {bits}")


def output_bits(camera: Camera, bits: int | None = None) -> int:
    """The depth a translation for ``camera`` is written at.

    Args:
        camera: the target camera.
        bits: an explicit depth (returned as given), or None.

    Returns:
        ``bits``, else the camera's ``bit_depth`` rounded up to one of DEPTHS (16 for deeper cameras), else
        DEFAULT_DEPTH.

    Raises:
        InputError: ``bits`` is not one of DEPTHS.
    """
    check_bits(bits)
    if bits is not None:
        return bits
    if camera.bit_depth is None:
        return DEFAULT_DEPTH
    return next((d for d in DEPTHS if camera.bit_depth <= d), DEPTHS[-1])


def frame_bytes(width: int, height: int, bits: int) -> int:
    """Disk space of one translated frame of this size and depth (measured PNG sizes, see the module).

    Args:
        width, height: the frame's size in pixels.
        bits: its depth, one of DEPTHS.

    Returns:
        Bytes.
    """
    return round(width * height * BYTES_PER_PIXEL[bits])
