"""Reading and writing images with their channel order intact.

OpenCV stores 3- and 4-channel images as BGR(A); polaraug arrays keep the file's channel order (RGB for
colour images, I0, I45, I90, I135 for polarimetric ones), so the swap happens here and only here.
Arrays are channels-last (H, W) or (H, W, C) numpy arrays.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import tifffile

from polaraug.errors import InputError

from .atomic import atomic_path

READABLE = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp", ".npy")


class ImageReadError(InputError):
    """An image could not be read; the message names the file and the reason."""


def _swap_rb(img: np.ndarray) -> np.ndarray:
    if img.ndim == 3 and img.shape[2] in (3, 4):
        return img[..., [2, 1, 0, *range(3, img.shape[2])]]
    return img


def _png_colour_type(path: Path) -> int | None:
    """PNG colour type from the IHDR chunk (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA)."""
    with open(path, "rb") as f:
        head = f.read(26)
    return head[25] if len(head) == 26 and head[:8] == b"\x89PNG\r\n\x1a\n" else None


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read ``path`` as (H, W) or (H, W, C) in the file's channel order and dtype (uint8/uint16/float)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READABLE:
        raise ImageReadError(f"{path}: unsupported image type {suffix!r} (readable: {', '.join(READABLE)})")
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file")
    try:
        if suffix == ".npy":
            img = np.load(path, allow_pickle=False)
        elif suffix in (".tif", ".tiff"):
            img = tifffile.imread(path)
        else:
            if suffix == ".png" and _png_colour_type(path) in (3, 4):
                # OpenCV expands palette and grey+alpha PNGs to 3 or 4 channels that are no image data.
                raise ImageReadError(f"{path}: palette or grey+alpha PNG; expected grey, RGB or 4-channel data")
            img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            if img is None:
                raise ImageReadError(f"{path}: OpenCV cannot decode this file (corrupt or truncated?)")
            img = _swap_rb(img)
    except ImageReadError:
        raise
    except Exception as e:  # decoder errors come in many types; report them uniformly with the file name
        raise ImageReadError(f"{path}: cannot read image: {e}") from None
    if img.ndim not in (2, 3):
        raise ImageReadError(f"{path}: expected a 2-D image or (H, W, C), got shape {img.shape}")
    return np.ascontiguousarray(img)


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) of an image file from its header only (fast: no pixel decoding)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.size
    except (OSError, UnidentifiedImageError) as e:
        raise ImageReadError(f"{path}: cannot read image header: {e}") from None
    except Exception as e:  # noqa: BLE001 - third-party PIL plugins (e.g. registered by ultralytics) raise anything
        raise ImageReadError(f"{path}: cannot read image header ({type(e).__name__}: {e})") from None


def write_image(path: str | os.PathLike, img: np.ndarray) -> Path:
    """Atomically write (H, W) or (H, W, C) ``img`` in its channel order: PNG (uint8/uint16), TIFF, NPY.

    Args:
        path: the file to write; its suffix picks the format (.png, .tif/.tiff, .npy, .jpg/.jpeg, .bmp).
        img: the image, channels last, in file channel order.

    Returns:
        ``path`` as a Path.

    Raises:
        InputError: an unsupported suffix, or more channels than a lossy/3-channel format holds.
        OSError: OpenCV could not write the image.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    with atomic_path(path) as tmp:
        if suffix == ".npy":
            with open(tmp, "wb") as f:
                np.save(f, img, allow_pickle=False)
        elif suffix in (".tif", ".tiff"):
            tifffile.imwrite(tmp, img)
        elif suffix in (".png", ".jpg", ".jpeg", ".bmp"):
            channels = 1 if img.ndim == 2 else img.shape[2]
            if suffix != ".png" and channels not in (1, 3):
                raise InputError(f"{path}: {suffix} cannot hold {channels} channels losslessly; use .png or .tiff")
            if not cv2.imwrite(str(tmp), np.ascontiguousarray(_swap_rb(img))):
                raise OSError(f"{path}: OpenCV could not write a {img.dtype} image of shape {img.shape}")
        else:
            raise InputError(f"{path}: unsupported output type {suffix!r}")
    return path
