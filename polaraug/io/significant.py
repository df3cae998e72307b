"""Images at their real precision: b-bit samples in 8- or 16-bit PNGs whose sBIT chunk says b.

A camera's 10- or 12-bit samples fit no PNG depth, so they are stored in a 16-bit PNG shifted to the top
bits (the low bits zero, which compresses) with an sBIT ("significant bits") chunk giving b, as the PNG
specification scales them: a reader that ignores sBIT (OpenCV, ultralytics, an image viewer) sees the image
at full scale; :func:`significant_values` (used by :func:`polaraug.io.images.read_image`) returns the b-bit
values 0 .. 2**b - 1 that were written, the layout polaraug keeps such data in memory. Only files polaraug
wrote (a tEXt chunk, :data:`MARKER`) are shifted back; every other PNG is read as stored, sBIT or not.
"""

from __future__ import annotations

import os
import struct
import zlib

import cv2
import numpy as np

from polaraug.errors import InputError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IHDR_END = 8 + 4 + 4 + 13 + 4  # signature, then IHDR's length, type, 13 data bytes and CRC
MAX_CHUNKS_BEFORE_DATA = 64  # sBIT precedes IDAT; a file with more ancillary chunks first is read as stored
# A tEXt chunk saying polaraug shifted the samples up. Other writers' sBIT files may hold their values at the
# top, at the bottom or bit-replicated, which their content cannot tell apart (a dark bit-replicated frame
# has zero low bits too): those are read as stored, as any other PNG.
MARKER = b"polaraug\x00significant bits shifted to the top of each sample"


def container_bits(dtype: np.dtype) -> int:
    """The bits of an unsigned sample type (8 for uint8, 16 for uint16).

    Args:
        dtype: the image's dtype.

    Returns:
        8 or 16.

    Raises:
        InputError: not uint8 or uint16 (no PNG holds it).
    """
    if np.dtype(dtype) not in (np.uint8, np.uint16):
        raise InputError(f"significant bits need uint8 or uint16 samples, got {np.dtype(dtype)}")
    return np.dtype(dtype).itemsize * 8


def to_container(img: np.ndarray, bits: int, path: str | os.PathLike = "<array>") -> np.ndarray:
    """b-bit values (0 .. 2**b - 1) shifted to the top of their uint8/uint16 container.

    Args:
        img: the image, uint8 or uint16.
        bits: its significant bits, 1 .. the container's.
        path: the file, for messages.

    Returns:
        ``img << (container - bits)`` (``img`` itself when bits fill the container).

    Raises:
        InputError: bits outside 1 .. container, or values above 2**bits - 1.
    """
    container = container_bits(img.dtype)
    if not 1 <= bits <= container:
        raise InputError(f"{path}: {bits} significant bits do not fit {img.dtype} samples (1 to {container})")
    if img.size and int(img.max()) >= 2**bits:
        raise InputError(f"{path}: values up to {int(img.max())} exceed {bits} bits (at most {2**bits - 1})")
    return img if bits == container else np.left_shift(img, container - bits, dtype=img.dtype)


def _chunk(kind: bytes, data: bytes) -> bytes:
    """A PNG chunk: length, type, data, CRC.

    Args:
        kind: the 4-byte chunk type.
        data: its data.

    Returns:
        The chunk's bytes.
    """
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(img: np.ndarray, bits: int) -> bytes:
    """A PNG file's bytes of OpenCV-ordered ``img`` (b-bit values), shifted up and with an sBIT chunk.

    Args:
        img: (H, W) or (H, W, 3 or 4) uint8/uint16 in OpenCV's channel order.
        bits: the significant bits of every channel.

    Returns:
        The file's bytes.

    Raises:
        InputError: see :func:`to_container`.
        OSError: OpenCV could not encode the image.
    """
    ok, data = cv2.imencode(".png", np.ascontiguousarray(to_container(img, bits)))
    if not ok:
        raise OSError(f"OpenCV could not encode a {img.dtype} image of shape {img.shape}")
    png = data.tobytes()
    channels = 1 if img.ndim == 2 else img.shape[2]
    return png[:IHDR_END] + _chunk(b"sBIT", bytes([bits]) * channels) + _chunk(b"tEXt", MARKER) + png[IHDR_END:]


def _chunks_before_data(path: str | os.PathLike):
    """Yield (type, data) of a PNG's chunks before its image data (data of chunks over 80 bytes: b"");
    nothing for a file that is not a PNG."""
    with open(path, "rb") as f:
        if f.read(8) != PNG_SIGNATURE:
            return
        for _ in range(MAX_CHUNKS_BEFORE_DATA):
            head = f.read(8)
            if len(head) < 8:
                return
            length, kind = struct.unpack(">I4s", head)
            if kind in (b"IDAT", b"IEND"):
                return
            data = f.read(length) if length <= 80 else b""
            f.seek(length + 4 - len(data), os.SEEK_CUR)
            yield kind, data


def png_significant_bits(path: str | os.PathLike) -> int | None:
    """The significant bits a PNG's sBIT chunk declares for every channel.

    Args:
        path: the file.

    Returns:
        b, or None: no sBIT chunk before the image data, channels that declare different depths, no PNG.
    """
    for kind, data in _chunks_before_data(path):
        if kind == b"sBIT":
            return data[0] if 0 < len(data) <= 4 and len(set(data)) == 1 else None
    return None


def shifted_bits(path: str | os.PathLike) -> int | None:
    """The significant bits of a PNG polaraug wrote shifted up (:func:`encode_png`), for rewriting it alike.

    Args:
        path: the file.

    Returns:
        b when the file has both an sBIT chunk and :data:`MARKER`, else None (stored as is).
    """
    bits, marked = None, False
    for kind, data in _chunks_before_data(path):  # one pass over the header chunks
        if kind == b"sBIT":
            bits = data[0] if 0 < len(data) <= 4 and len(set(data)) == 1 else None
        marked = marked or (kind == b"tEXt" and data == MARKER)
    return bits if bits and marked else None


def significant_values(img: np.ndarray, path: str | os.PathLike) -> np.ndarray:
    """A decoded PNG's samples as the b-bit values its sBIT chunk declares when polaraug wrote it
    (:func:`encode_png`: shifted to the top, marked with :data:`MARKER`); other files' samples as stored.

    Args:
        img: the decoded image.
        path: the PNG it came from.

    Returns:
        ``img >> (container - b)``, or ``img`` itself.
    """
    if img.dtype not in (np.uint8, np.uint16):
        return img
    bits = shifted_bits(path)
    shift = img.dtype.itemsize * 8 - bits if bits else 0
    if shift <= 0:
        return img
    return np.right_shift(img, shift)
