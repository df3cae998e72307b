import numpy as np
import pytest

from polaraug.io.atomic import atomic_path
from polaraug.io.images import ImageReadError, read_image, write_image


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_four_channel_png_keeps_channel_order(tmp_path, dtype):
    img = np.zeros((3, 5, 4), dtype)
    for c in range(4):
        img[..., c] = c + 1  # I0 = 1, I45 = 2, I90 = 3, I135 = 4
    write_image(tmp_path / "x.png", img)
    back = read_image(tmp_path / "x.png")
    assert back.dtype == dtype
    np.testing.assert_array_equal(back, img)


@pytest.mark.parametrize("suffix", [".tiff", ".npy"])
def test_float_maps_round_trip(tmp_path, suffix, rng):
    img = rng.normal(size=(6, 7)).astype(np.float32)
    np.testing.assert_array_equal(read_image(write_image(tmp_path / f"m{suffix}", img)), img)


def test_bad_files_are_named(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ImageReadError, match="broken.png"):
        read_image(tmp_path / "broken.png")
    with pytest.raises(ImageReadError, match="missing.png: no such file"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(ImageReadError, match="unsupported"):
        read_image(tmp_path / "a.gif")


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_written_files_get_umask_permissions(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        path = write_image(tmp_path / "p.png", np.zeros((2, 2), np.uint8))
    finally:
        os.umask(mask)
    from polaraug.io.atomic import _UMASK

    assert path.stat().st_mode & 0o777 == 0o666 & ~_UMASK


def test_lossy_or_narrow_formats_refuse_four_channels(tmp_path):
    with pytest.raises(ValueError, match="cannot hold 4 channels"):
        write_image(tmp_path / "x.jpg", np.zeros((2, 2, 4), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_grey_alpha_png_is_not_taken_for_four_channels(tmp_path):
    import zlib

    def chunk(kind, data):
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    ihdr = (2).to_bytes(4, "big") + (2).to_bytes(4, "big") + bytes([8, 4, 0, 0, 0])  # 8-bit grey+alpha
    raw = b"".join(b"\x00" + bytes(4) for _ in range(2))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    (tmp_path / "la.png").write_bytes(png)
    with pytest.raises(ImageReadError, match="grey\\+alpha"):
        read_image(tmp_path / "la.png")


def test_link_or_copy_shares_the_file_without_touching_its_permissions(tmp_path):
    import os

    from polaraug.io.atomic import link_or_copy, remove_stale_temporaries

    src = tmp_path / "a.png"
    src.write_bytes(b"pixels")
    src.chmod(0o444)
    dst = link_or_copy(src, tmp_path / "out" / "a.png")
    assert dst.samefile(src) and dst.read_bytes() == b"pixels"
    assert (src.stat().st_mode & 0o777) == 0o444  # a hard link is the same inode: chmod would change src
    (tmp_path / "out" / "b.png").write_bytes(b"old")
    link_or_copy(src, tmp_path / "out" / "b.png")  # replaces an older file
    assert (tmp_path / "out" / "b.png").samefile(src)
    assert link_or_copy(src, dst) == dst  # already the same file: nothing to do
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")] == []
    stale = tmp_path / "out" / f".c.{os.getpid()}ab12.tmp.png"  # what a killed link leaves
    os.link(src, stale)
    (tmp_path / "out" / "c.png").write_bytes(b"done")
    assert remove_stale_temporaries(tmp_path / "out", only_done=True) == 1
