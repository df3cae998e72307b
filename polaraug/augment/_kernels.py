"""Compiled in-place channel permutations of 4-channel images (numba, compiled on first use and cached).

A flip or quarter turn of a polarimetric image is the geometric copy (OpenCV, SIMD) followed by a channel
permutation. Done in place on that fresh copy, the permutation is one more pass over memory still in cache
instead of another full copy (OpenCV's mixChannels into a new array cost 5–10× the flip here). The flips
and quarter turns of the ideal camera only ever need three permutations (with the identity, a Klein
four-group); each has its own loop with constant lanes, which the compiler vectorizes (uint8 pixels as one
32-bit word: byte swaps by shifts and masks). Any other permutation takes a generic loop.
"""

from __future__ import annotations

import functools

import numpy as np

SWAP_13, SWAP_HALVES, SWAP_02 = (0, 3, 2, 1), (2, 3, 0, 1), (2, 1, 0, 3)
_CODES = {SWAP_13: 1, SWAP_HALVES: 2, SWAP_02: 3}
_KERNELS: dict[str, object] = {}


def _bytes(words, code):
    """uint8 pixels as uint32 words (channel k in byte k, little-endian), permuted by ``code``."""
    if code == 1:  # I45 <-> I135
        for i in range(words.size):
            v = words[i]
            words[i] = (v & np.uint32(0x00FF00FF)) | ((v >> np.uint32(16)) & np.uint32(0x0000FF00)) \
                | ((v << np.uint32(16)) & np.uint32(0xFF000000))
    elif code == 2:  # I0 <-> I90 and I45 <-> I135
        for i in range(words.size):
            v = words[i]
            words[i] = (v >> np.uint32(16)) | (v << np.uint32(16))
    elif code == 3:  # I0 <-> I90
        for i in range(words.size):
            v = words[i]
            words[i] = (v & np.uint32(0xFF00FF00)) | ((v >> np.uint32(16)) & np.uint32(0x000000FF)) \
                | ((v << np.uint32(16)) & np.uint32(0x00FF0000))


def _rows(px, code, perm):
    """px (N, 4) permuted row by row: the three group elements by ``code``, else by ``perm``."""
    n = px.shape[0]
    if code == 1:
        for i in range(n):
            b = px[i, 1]
            px[i, 1] = px[i, 3]
            px[i, 3] = b
    elif code == 2:
        for i in range(n):
            a, b = px[i, 0], px[i, 1]
            px[i, 0] = px[i, 2]
            px[i, 1] = px[i, 3]
            px[i, 2] = a
            px[i, 3] = b
    elif code == 3:
        for i in range(n):
            a = px[i, 0]
            px[i, 0] = px[i, 2]
            px[i, 2] = a
    else:
        for i in range(n):
            a, b, c, d = px[i, perm[0]], px[i, perm[1]], px[i, perm[2]], px[i, perm[3]]
            px[i, 0], px[i, 1], px[i, 2], px[i, 3] = a, b, c, d


@functools.cache
def available() -> bool:
    """Whether numba imports (a dependency; without it the copying OpenCV path is used)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def _kernel(name: str):
    if name not in _KERNELS:
        import numba

        _KERNELS[name] = numba.njit(cache=True, nogil=True)(globals()[f"_{name}"])
    return _KERNELS[name]


def permute_channels_inplace(img: np.ndarray, perm: tuple[int, ...]) -> np.ndarray:
    """img[..., k] = img[..., perm[k]] for every pixel, in place.

    Args:
        img: (H, W, 4) C-contiguous, writable, any numeric dtype.
        perm: a permutation of (0, 1, 2, 3).

    Returns:
        ``img``.
    """
    perm = tuple(int(p) for p in perm)
    if perm == (0, 1, 2, 3):
        return img
    code = _CODES.get(perm, 0)
    if img.dtype == np.uint8 and code and np.little_endian:
        _kernel("bytes")(img.reshape(-1).view(np.uint32), code)
    else:
        _kernel("rows")(img.reshape(-1, 4), code, np.asarray(perm, np.int64))
    return img
