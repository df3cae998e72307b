"""Compiled in-place channel permutations of 4-channel images (numba, compiled on first use and cached).

A flip or quarter turn of a polarimetric image is the geometric copy (OpenCV, SIMD) followed by a channel
permutation. Done in place on that fresh copy, the permutation is one more pass over memory still in cache
instead of another full copy (OpenCV's mixChannels into a new array cost 5–10× the flip here). The flips
and quarter turns of the ideal camera only ever need three permutations (with the identity, a Klein
four-group); each has its own loop with constant lanes, which the compiler vectorizes (uint8 pixels as one
32-bit word: byte swaps by shifts and masks). Any other permutation takes a generic loop.
"""

from __future__ import annotations

import cv2
import numpy as np

from polaraug.physics._jit import compiled, numba_available

SWAP_13, SWAP_HALVES, SWAP_02 = (0, 3, 2, 1), (2, 3, 0, 1), (2, 1, 0, 3)
_CODES = {SWAP_13: 1, SWAP_HALVES: 2, SWAP_02: 3}


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


def _mix_planes(p0, p1, p2, p3, m, zero, top, bad):
    """A 4x4 channel map on integer planes, in place: round (half to even, as OpenCV), saturate to [0, top],
    then flag the pixels the ideal camera's exact test calls inadmissible: (ΣI)² < (2 (I0 − I90))² + (2 (I45 − I135))².

    Args:
        p0, p1, p2, p3: (n,) uint8 or uint16 planes (I0, I45, I90, I135), overwritten.
        m: (4, 4) the map, float32 for uint8 planes (sums of squares of 8-bit values are exact in it),
            float64 for uint16.
        zero, top: 0 and the full scale, in m's dtype.
        bad: (n,) bool output, the flags.

    Returns:
        How many pixels are flagged.
    """
    m00, m01, m02, m03 = m[0, 0], m[0, 1], m[0, 2], m[0, 3]  # scalars: array loads would repeat per pixel
    m10, m11, m12, m13 = m[1, 0], m[1, 1], m[1, 2], m[1, 3]
    m20, m21, m22, m23 = m[2, 0], m[2, 1], m[2, 2], m[2, 3]
    m30, m31, m32, m33 = m[3, 0], m[3, 1], m[3, 2], m[3, 3]
    count = 0
    for j in range(p0.shape[0]):
        a, b, c, d = zero + p0[j], zero + p1[j], zero + p2[j], zero + p3[j]
        o0 = min(max(np.rint(m00 * a + m01 * b + m02 * c + m03 * d), zero), top)
        o1 = min(max(np.rint(m10 * a + m11 * b + m12 * c + m13 * d), zero), top)
        o2 = min(max(np.rint(m20 * a + m21 * b + m22 * c + m23 * d), zero), top)
        o3 = min(max(np.rint(m30 * a + m31 * b + m32 * c + m33 * d), zero), top)
        p0[j], p1[j], p2[j], p3[j] = o0, o1, o2, o3
        total, t1, t2 = o0 + o1 + o2 + o3, (o0 - o2) + (o0 - o2), (o1 - o3) + (o1 - o3)
        flag = total * total < t1 * t1 + t2 * t2
        bad[j] = flag
        count += flag
    return count


def available() -> bool:
    """Whether numba is usable (without it the copying OpenCV paths are used)."""
    return numba_available()


def _kernel(name: str):
    return compiled(globals()[f"_{name}"])


def mix_integer_ideal(img: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``cv2.transform(img, m)`` for 4-channel integer images of the ideal camera, and its inadmissible
    pixels, in one compiled pass over the channel planes (OpenCV splits and merges them: the compiler does
    not vectorize the interleaved layout). Results equal OpenCV's but where its float32 arithmetic rounds a
    uint16 value differently from the float64 used here.

    Args:
        img: (H, W, 4) uint8 or uint16.
        m: (4, 4) float64, the channel map.

    Returns:
        (the mapped image (H, W, 4) of img's dtype, flat indices of its inadmissible pixels).
    """
    dtype = np.float32 if img.dtype == np.uint8 else np.float64
    planes = cv2.split(np.ascontiguousarray(img))
    flat = [np.ascontiguousarray(p).reshape(-1) for p in planes]
    bad = np.empty(flat[0].shape[0], np.bool_)
    count = _kernel("mix_planes")(*flat, np.ascontiguousarray(m, dtype), dtype(0),
                                  dtype(np.iinfo(img.dtype).max), bad)
    out = cv2.merge([f.reshape(img.shape[:2]) for f in flat])
    return out, (np.flatnonzero(bad) if count else np.zeros(0, np.int64))


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
