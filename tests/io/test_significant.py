"""b-bit data in PNGs: stored shifted up with an sBIT chunk, read back as the values written."""

import struct
import zlib

import cv2
import numpy as np
import pytest

from polaraug.errors import InputError
from polaraug.io.images import read_image, write_image
from polaraug.io.significant import png_significant_bits


@pytest.mark.parametrize("bits", [8, 10, 12, 16])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_values_round_trip_and_the_file_declares_their_depth(tmp_path, bits, channels):
    rng = np.random.default_rng(bits + channels)
    shape = (9, 13) if channels == 1 else (9, 13, channels)
    img = rng.integers(0, 2**bits, shape).astype(np.uint8 if bits == 8 else np.uint16)
    img.flat[0] = 2**bits - 1  # full scale
    path = write_image(tmp_path / "x.png", img, bits=bits)
    assert png_significant_bits(path) == bits
    back = read_image(path)
    assert back.dtype == img.dtype and np.array_equal(back, img)
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)  # a reader that ignores sBIT: full scale, low bits zero
    shift = 8 * img.dtype.itemsize - bits
    assert int(raw.max()) == (2**bits - 1) << shift and not np.any(raw & ((1 << shift) - 1))


def test_ultralytics_style_reading_sees_the_image_at_full_scale(tmp_path):
    """A 16-bit PNG read as >> 8 (ultralytics) gives the 12-bit image's top 8 bits, not a black image."""
    q = np.array([[[0, 1000, 2048, 4095]]], dtype=np.uint16)
    path = write_image(tmp_path / "x.png", q, bits=12)
    eight = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[..., [2, 1, 0, 3]] >> 8  # OpenCV order is BGRA
    assert eight.ravel().tolist() == [0, 62, 128, 255] == [v >> 4 for v in q.ravel()]


def test_the_low_bits_compress(tmp_path):
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 4096, (64, 64, 4)).astype(np.uint16)
    shifted = write_image(tmp_path / "a.png", noise, bits=12).stat().st_size
    full = write_image(tmp_path / "b.png", (noise << 4) | rng.integers(0, 16, noise.shape).astype(np.uint16))
    assert shifted < 0.9 * full.stat().st_size  # 12 bits of noise in 16: 0.86 measured (entropy 0.75)


def test_values_beyond_the_depth_and_other_formats_are_refused(tmp_path):
    with pytest.raises(InputError, match="exceed 12 bits"):
        write_image(tmp_path / "x.png", np.full((2, 2, 4), 4096, np.uint16), bits=12)
    with pytest.raises(InputError, match="do not fit"):
        write_image(tmp_path / "x.png", np.zeros((2, 2, 4), np.uint8), bits=12)
    with pytest.raises(InputError, match="only PNG"):
        write_image(tmp_path / "x.tiff", np.zeros((2, 2, 4), np.uint16), bits=12)
    assert not list(tmp_path.iterdir())


def _with_sbit(png: bytes, sbit: bytes) -> bytes:
    chunk = struct.pack(">I", len(sbit)) + b"sBIT" + sbit + struct.pack(">I", zlib.crc32(b"sBIT" + sbit))
    return png[:33] + chunk + png[33:]


def test_other_writers_files_are_read_as_stored(tmp_path):
    """sBIT over samples whose low bits are not zero (values at the bottom, or bit replication), and channels
    of different depths: the stored samples come back unchanged."""
    low = np.array([[[1, 2, 3, 4095]]], dtype=np.uint16)  # 12-bit values at the bottom of 16-bit samples
    ok, png = cv2.imencode(".png", low)
    (tmp_path / "low.png").write_bytes(_with_sbit(png.tobytes(), bytes([12] * 4)))
    assert np.array_equal(read_image(tmp_path / "low.png"), low[..., [2, 1, 0, 3]])
    mixed = np.array([[[16, 32, 48, 64]]], dtype=np.uint16)
    ok, png = cv2.imencode(".png", mixed)
    (tmp_path / "mixed.png").write_bytes(_with_sbit(png.tobytes(), bytes([12, 12, 12, 10])))
    assert png_significant_bits(tmp_path / "mixed.png") is None
    assert np.array_equal(read_image(tmp_path / "mixed.png"), mixed[..., [2, 1, 0, 3]])
    write_image(tmp_path / "plain.png", mixed)
    assert png_significant_bits(tmp_path / "plain.png") is None
    # Another camera's 12-bit frame shifted to the top with sBIT 12: read as stored (at full scale), since
    # nothing says its low bits are padding rather than a dark bit-replicated frame's own bits.
    top = np.array([[[16, 32, 48, 65520]]], dtype=np.uint16)
    ok, png = cv2.imencode(".png", top)
    (tmp_path / "top.png").write_bytes(_with_sbit(png.tobytes(), bytes([12] * 4)))
    assert png_significant_bits(tmp_path / "top.png") == 12
    assert np.array_equal(read_image(tmp_path / "top.png"), top[..., [2, 1, 0, 3]])
