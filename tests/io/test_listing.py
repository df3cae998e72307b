import numpy as np
import pytest

from polaraug.errors import InputError
from polaraug.io.images import write_image
from polaraug.io.listing import image_suffixes, list_images


@pytest.fixture
def tree(tmp_path):
    """A folder mixing images of every kind, hidden bookkeeping, temp files and image-named folders."""
    img = np.zeros((2, 2, 3), np.uint8)
    for rel in ("b.png", "a.JPG", "sub/c.bmp", "sub/deep/d.jpeg", ".synth/records/r.png", "sub/.e.x1.tmp.png"):
        write_image(tmp_path / rel, img)
    write_image(tmp_path / "f.tiff", img)
    np.save(tmp_path / "g.npy", img)
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "folder.png").mkdir()  # a folder named like an image is not one
    return tmp_path


def rel(paths, root):
    return [p.relative_to(root).as_posix() for p in paths]


def test_rgb_recursive_skips_hidden_folders_temp_files_and_folders(tree):
    assert rel(list_images(tree, "rgb"), tree) == ["a.JPG", "b.png", "sub/c.bmp", "sub/deep/d.jpeg"]


def test_flat_listing_stays_in_the_folder(tree):
    assert rel(list_images(tree, "rgb", recursive=False), tree) == ["a.JPG", "b.png"]
    assert rel(list_images(tree, "readable", recursive=False), tree) == ["a.JPG", "b.png", "f.tiff", "g.npy"]


def test_any_kind_and_hidden_files_on_request(tree):
    assert "notes.txt" in rel(list_images(tree, "any", recursive=False), tree)
    with_hidden = rel(list_images(tree, "rgb", skip_hidden=False), tree)
    assert ".synth/records/r.png" in with_hidden and "sub/.e.x1.tmp.png" in with_hidden
    assert "folder.png" not in with_hidden


def test_hidden_root_itself_is_listed(tree):
    # Only names below the root count: a set kept in a hidden folder is still listed.
    assert rel(list_images(tree / ".synth", "rgb"), tree / ".synth") == ["records/r.png"]


def test_kinds_combine_and_unknown_kinds_fail(tree):
    assert image_suffixes(["rgb", "readable"]) == (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".npy")
    assert image_suffixes(("rgb", "any")) is None
    with pytest.raises(ValueError, match="unknown image kind"):
        list_images(tree, "photos")


def test_missing_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such folder"):
        list_images(tmp_path / "nope")
    assert list_images(tmp_path) == []
