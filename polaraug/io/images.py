"""Reading and writing images with their channel order intact.

OpenCV stores 3- and 4-channel images as BGR(A); polaraug arrays keep the file's channel order (RGB for
colour images, I0, I45, I90, I135 for polarimetric ones), so the swap happens here and only here.
Arrays are channels-last (H, W) or (H, W, C) numpy arrays.

Before decoding, :func:`read_image` checks the size a file's header declares (PNG IHDR, PIL's header
reader for JPEG and BMP, the TIFF page's tags, the NPY header) and refuses more than ``max_pixels()``
pixels (a decompression bomb: a small file that would decode to gigabytes) with
:class:`ImageTooLargeError`. The limit is 2**27 pixels (134 Mpx, e.g. 11585 x 11585) unless the
environment variable ``POLARAUG_MAX_PIXELS`` raises it; :func:`image_size` and :func:`image_header` apply it
too. TIFF files hold one image (one page).
"""

from __future__ import annotations

import os
import struct
import threading
import tokenize
import warnings
import zlib
from pathlib import Path

import cv2
import numpy as np
import tifffile

from polaraug.errors import ConfigError, InputError, parse_reason

from .atomic import atomic_path
from .significant import PNG_SIGNATURE, encode_png, significant_values

READABLE = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp", ".npy")
MAX_PIXELS_ENV = "POLARAUG_MAX_PIXELS"
DEFAULT_MAX_PIXELS = 2**27  # 134 Mpx: larger declared sizes are refused before decoding
MAX_CHANNELS = 64  # more is not an image (a planar or multi-page file read the wrong way round, or a bomb)
PIXEL_KINDS = "uif"  # unsigned and signed integers, floats: what an image holds (not bool, complex, text)
# What decoders raise on a corrupt file (tifffile's TiffFileError is a ValueError; zlib.error and
# struct.error come from compressed or short data; tifffile divides by header values that may be 0): caught
# around the decoder's call only, reported naming the file.
DECODE_ERRORS = (ValueError, OSError, EOFError, KeyError, IndexError, TypeError, OverflowError, ZeroDivisionError,
                 struct.error, zlib.error, cv2.error)


class ImageReadError(InputError):
    """An image could not be read; the message names the file and the reason."""


class ImageTooLargeError(ImageReadError):
    """A header declares more pixels than ``max_pixels()``: refused before decoding."""


def max_pixels() -> int:
    """The largest width x height :func:`read_image` and :func:`image_size` accept.

    Returns:
        ``POLARAUG_MAX_PIXELS`` when set, else ``DEFAULT_MAX_PIXELS`` (2**27).

    Raises:
        ConfigError: ``POLARAUG_MAX_PIXELS`` is not a whole number >= 1.
    """
    raw = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{MAX_PIXELS_ENV}={raw!r}: must be a whole number of pixels >= 1 "
                          f"(default {DEFAULT_MAX_PIXELS})")
    return value


def check_declared_shape(path: str | os.PathLike, shape: tuple[int, ...]) -> None:
    """Refuse a header's declared (H, W) or (H, W, C) before any pixel is decoded.

    Args:
        path: the file, for messages.
        shape: the declared array shape (rows, columns[, channels]).

    Raises:
        ImageTooLargeError: more than ``max_pixels()`` pixels.
        ImageReadError: not 2-D or 3-D, empty, or more than MAX_CHANNELS channels.
    """
    if len(shape) not in (2, 3):
        raise ImageReadError(f"{path}: expected a 2-D image or (H, W, C), the file declares shape {tuple(shape)}")
    height, width = int(shape[0]), int(shape[1])
    if min(shape) <= 0:
        raise ImageReadError(f"{path}: empty image: the file declares shape {tuple(shape)}")
    limit = max_pixels()
    if height * width > limit:
        raise ImageTooLargeError(
            f"{path}: the header declares {width}x{height} = {width * height:,} pixels, above the limit of "
            f"{limit:,} (a decompression bomb?); if the image is real, raise the limit with "
            f"{MAX_PIXELS_ENV}={width * height}")
    if len(shape) == 3 and shape[2] > MAX_CHANNELS:
        raise ImageReadError(f"{path}: the file declares {shape[2]} channels (shape {tuple(shape)}); an image has "
                             f"at most {MAX_CHANNELS} (a planar or multi-page file?)")


def _decoder_reason(error: BaseException) -> str:
    """What a decoder said about a corrupt file, on one line; an exception other than ValueError and OSError
    (a decoder's internal arithmetic, indexing or assertion on nonsense values) is named as such."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror  # without the file's name: the message starts with it
    reason = parse_reason(error)
    if isinstance(error, (ValueError, OSError)):
        return reason
    said = f": {reason}" if reason != type(error).__name__ else ""
    return f"corrupt file ({type(error).__name__} in the decoder{said})"


def _swap_rb(img: np.ndarray) -> np.ndarray:
    if img.ndim == 3 and img.shape[2] in (3, 4):
        return img[..., [2, 1, 0, *range(3, img.shape[2])]]
    return img


def _png_header(path: Path) -> tuple[int, int, int] | None:
    """(width, height, colour type) from a PNG's IHDR chunk (colour types: 0 grey, 2 RGB, 3 palette,
    4 grey+alpha, 6 RGBA); None when the file does not start like a PNG."""
    with open(path, "rb") as f:
        head = f.read(26)
    if len(head) < 26 or head[:8] != PNG_SIGNATURE or head[12:16] != b"IHDR":
        return None
    width, height, _, colour = struct.unpack(">IIBB", head[16:26])
    return width, height, colour


def _npy_declared(path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) an NPY file's header declares, read without the data."""
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        if version in ((1, 0), (2, 0)):
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(f)
            return shape, dtype
    head = np.load(path, mmap_mode="r", allow_pickle=False)  # other versions: the header through a memory map
    return head.shape, head.dtype


def _check_pixel_type(path: Path, dtype: np.dtype | None) -> None:
    """Refuse pixel types that are no image's: bool, complex, dates, text, objects, records."""
    if dtype is not None and (dtype.kind not in PIXEL_KINDS or dtype.fields is not None):
        raise ImageReadError(f"{path}: pixel type {dtype} is not an image's (unsigned or signed integers, floats)")


def read_npy(path: str | os.PathLike) -> np.ndarray:
    """An image array from an NPY file (whatever its suffix), its header's shape and type checked first.

    Raises:
        ImageReadError: a missing or corrupt file, or a header that declares no image (see read_image).
        ImageTooLargeError: more than ``max_pixels()`` pixels declared.
    """
    path = Path(path)
    try:
        shape, dtype = _npy_declared(path)
    except (*DECODE_ERRORS, tokenize.TokenError) as e:  # numpy tokenizes the header's text
        raise ImageReadError(f"{path}: not a readable NPY file: {_decoder_reason(e)}") from None
    check_declared_shape(path, shape)
    _check_pixel_type(path, np.dtype(dtype))
    try:
        return np.load(path, allow_pickle=False)
    except DECODE_ERRORS as e:
        raise ImageReadError(f"{path}: cannot read image: {_decoder_reason(e)}") from None


def _read_tiff(path: Path) -> np.ndarray:
    """The one image of a single-page TIFF, channels last (planar files too). Its page is read directly:
    tifffile's series detection walks every page and can loop for ever on a corrupt chain of pages."""
    try:
        with tifffile.TiffFile(path) as tif:
            if len(tif.pages) != 1:
                raise ImageReadError(f"{path}: a TIFF of {len(tif.pages)} pages; expected one image")
            page = tif.pages[0]
            planar = page.axes == "SYX"  # one plane per channel
            check_declared_shape(path, (*page.shape[1:], page.shape[0]) if planar else page.shape)
            _check_pixel_type(path, page.dtype)
            img = page.asarray()
            return np.moveaxis(img, 0, -1) if planar else img
    except ImageReadError:
        raise
    # tifffile asserts its invariants on a corrupt header, and needs imagecodecs for some compressions and depths
    except (*DECODE_ERRORS, AssertionError, NotImplementedError) as e:
        raise ImageReadError(f"{path}: cannot read image: {_decoder_reason(e)}") from None


def _read_decoded(path: Path, suffix: str) -> np.ndarray:
    """PNG, JPEG, BMP: the header's size checked (PNG's IHDR, else PIL's header reader), then OpenCV decodes."""
    png = _png_header(path) if suffix == ".png" else None
    if png is not None and png[2] in (3, 4):
        # OpenCV expands palette and grey+alpha PNGs to 3 or 4 channels that are no image data.
        raise ImageReadError(f"{path}: palette or grey+alpha PNG; expected grey, RGB or 4-channel data")
    width, height = png[:2] if png is not None else image_size(path)
    check_declared_shape(path, (height, width))
    try:
        img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    except cv2.error as e:
        raise ImageReadError(f"{path}: OpenCV cannot decode this file: {parse_reason(e)}") from None
    if img is None:
        raise ImageReadError(f"{path}: OpenCV cannot decode this file (corrupt or truncated?)")
    img = _swap_rb(img)
    return significant_values(img, path) if png is not None else img  # b-bit data as its sBIT chunk declares


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read ``path`` as (H, W) or (H, W, C) in the file's channel order and dtype (integers or floats).

    Raises:
        ImageReadError: an unsupported suffix, a missing, corrupt or empty file, a pixel type that is no
            image's (bool, complex, text), or a shape other than (H, W) or (H, W, C <= MAX_CHANNELS).
        ImageTooLargeError: the header declares more than ``max_pixels()`` pixels (nothing is decoded).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READABLE:
        raise ImageReadError(f"{path}: unsupported image type {suffix!r} (readable: {', '.join(READABLE)})")
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file")
    if suffix == ".npy":
        img = read_npy(path)
    elif suffix in (".tif", ".tiff"):
        img = _read_tiff(path)
    else:
        img = _read_decoded(path, suffix)
    if img.ndim not in (2, 3) or img.size == 0:
        raise ImageReadError(f"{path}: expected a non-empty 2-D image or (H, W, C), got shape {img.shape}")
    _check_pixel_type(path, img.dtype)
    return np.ascontiguousarray(img)


_PIL_LIMIT = threading.Lock()


def _pil_header(path: str | os.PathLike) -> tuple[int, int, str]:
    """(width, height, mode) from PIL's header reader, whose own decompression-bomb check (a warning, then an
    error above twice its limit) is replaced by ours: its warning is silenced, and a header its error refuses
    is read again with its check lifted (for a moment, under a lock) so that ours decides, with the size."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as im:
                return (*im.size, im.mode)
        except Image.DecompressionBombError:
            pass
        with _PIL_LIMIT:
            saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
            try:
                with Image.open(path) as im:
                    return (*im.size, im.mode)
            finally:
                Image.MAX_IMAGE_PIXELS = saved


def image_header(path: str | os.PathLike) -> tuple[int, int, str]:
    """(width, height, PIL mode such as ``RGB`` or ``I;16``) of an image file from its header only.

    Raises:
        ImageReadError: an unreadable header.
        ImageTooLargeError: the header declares more than ``max_pixels()`` pixels.
    """
    from PIL import UnidentifiedImageError

    try:
        width, height, mode = _pil_header(path)
    except UnidentifiedImageError:
        raise ImageReadError(f"{path}: cannot read image header: not an image file PIL recognises") from None
    except OSError as e:
        raise ImageReadError(f"{path}: cannot read image header: {parse_reason(e)}") from None
    except Exception as e:  # noqa: BLE001 - third-party PIL plugins (e.g. registered by ultralytics) raise anything
        raise ImageReadError(f"{path}: cannot read image header ({type(e).__name__}: {parse_reason(e)})") from None
    check_declared_shape(path, (height, width))
    return width, height, mode


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) of an image file from its header only (fast: no pixel decoding).

    Raises:
        ImageReadError: an unreadable header.
        ImageTooLargeError: the header declares more than ``max_pixels()`` pixels.
    """
    return image_header(path)[:2]


def write_image(path: str | os.PathLike, img: np.ndarray, bits: int | None = None) -> Path:
    """Atomically write (H, W) or (H, W, C) ``img`` in its channel order: PNG (uint8/uint16), TIFF, NPY.

    Args:
        path: the file to write; its suffix picks the format (.png, .tif/.tiff, .npy, .jpg/.jpeg, .bmp).
        img: the image, channels last, in file channel order.
        bits: PNG only: ``img`` holds values of this many bits (0 .. 2**bits - 1), stored shifted to the top
            of its uint8/uint16 samples with an sBIT chunk that says ``bits`` (:mod:`polaraug.io.significant`);
            :func:`read_image` returns the values given here.

    Returns:
        ``path`` as a Path.

    Raises:
        InputError: an unsupported suffix, or more channels than a lossy/3-channel format holds.
        OSError: OpenCV could not encode the image (no errno: a bug), or the file could not be written (the
            errno kept, e.g. ENOSPC, and ``path`` named).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if bits is not None:
        if suffix != ".png":
            raise InputError(f"{path}: only PNG files record their significant bits; use .png")
        data = encode_png(np.ascontiguousarray(_swap_rb(img)), bits)
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            f.write(data)
        return path
    with atomic_path(path) as tmp:
        if suffix == ".npy":
            with open(tmp, "wb") as f:
                np.save(f, img, allow_pickle=False)
        elif suffix in (".tif", ".tiff"):
            # 3 or 4 channels: RGB(A)-like contiguous samples, said explicitly (tifffile's default will change)
            rgb = img.ndim == 3 and img.shape[2] in (3, 4)
            tifffile.imwrite(tmp, img, photometric="rgb" if rgb else None)
        elif suffix in (".png", ".jpg", ".jpeg", ".bmp"):
            channels = 1 if img.ndim == 2 else img.shape[2]
            if suffix != ".png" and channels not in (1, 3):
                raise InputError(f"{path}: {suffix} cannot hold {channels} channels losslessly; use .png or .tiff")
            # encoded in memory, written by Python: a failed write (full disk, quota) raises OSError with its
            # errno, where cv2.imwrite only prints a libpng message and returns False
            ok, data = cv2.imencode(suffix, np.ascontiguousarray(_swap_rb(img)))
            if not ok:
                raise OSError(f"{path}: OpenCV could not encode a {img.dtype} image of shape {img.shape}")
            with open(tmp, "wb") as f:
                f.write(memoryview(data))
        else:
            raise InputError(f"{path}: unsupported output type {suffix!r}")
    return path
