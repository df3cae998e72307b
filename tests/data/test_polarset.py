import json

import numpy as np
import pytest

from polaraug.cameras import load_camera
from polaraug.data.errors import DatasetError
from polaraug.data.frame import Box, Frame
from polaraug.data.polarset import PolarSetWriter, read_polarset, scan_polarimetric
from polaraug.io.capture import capture_from_array
from polaraug.io.images import write_image
from polaraug.physics import camera_matrix, intensities_from_stokes, mosaic
from polaraug.physics.quantize import check_quantized
from polaraug.synth import polarized_test_pattern


def _pattern_intensities(h=48, w=64):
    return intensities_from_stokes(polarized_test_pattern(h, w), camera_matrix())


def test_writer_and_reader_round_trip(tmp_path):
    cam = load_camera("ideal")
    writer = PolarSetWriter(tmp_path / "set", cam, bits=16, created_by="test")
    y = _pattern_intensities()
    box = Box(3, 4, 20, 30, "car", occluded=True)
    writer.add(Frame("f0.jpg", tmp_path / "f0.jpg", [box], split="train", weather="foggy"), y)
    writer.add(Frame("f1.jpg", tmp_path / "f1.jpg", [], split="val"), y[::-1].copy())
    writer.close()
    ps = read_polarset(tmp_path / "set")
    assert ps.camera == cam and ps.bits == 16 and ps.splits == {"train": 1, "val": 1}
    assert ps.manifest["provenance"]["created_by"] == "test"
    (frame,) = list(ps.frames("train"))
    assert (frame.width, frame.height, frame.weather) == (64, 48, "foggy")
    assert [(b.cls, b.x1, b.y1, b.x2, b.y2, b.occluded) for b in frame.boxes] == [("car", 3, 4, 20, 30, True)]
    back = ps.load(frame)
    np.testing.assert_allclose(back, y, atol=3 / 65535)
    from polaraug.io.images import read_image

    assert check_quantized(read_image(frame.image), cam.matrix()) == 0


@pytest.mark.parametrize("field", ["schema", "channels", "bit_depth"])
def test_bad_manifests_name_the_field(tmp_path, field):
    writer = PolarSetWriter(tmp_path, load_camera("ideal"))
    writer.add(Frame("a.jpg", tmp_path / "a.jpg"), _pattern_intensities(8, 8))
    path = writer.close()
    m = json.loads(path.read_text())
    m[field] = "nope"
    path.write_text(json.dumps(m))
    with pytest.raises(DatasetError, match=f"manifest.json: field '{field}'"):
        read_polarset(tmp_path)


def test_scan_finds_every_layout(tmp_path):
    y8 = np.round(_pattern_intensities(16, 24) * 255).astype(np.uint8)
    for a, i in zip((0, 45, 90, 135), range(4), strict=True):
        write_image(tmp_path / "folders" / str(a) / "x.png", y8[..., i])
        write_image(tmp_path / "suffix" / f"x_{a}.png", y8[..., i])
    write_image(tmp_path / "four" / "x.png", y8)
    write_image(tmp_path / "raw" / "x.png", mosaic(y8, [[90, 45], [135, 0]]))
    for folder, layout in (("folders", "angle-folders"), ("suffix", "angle-suffix"), ("four", "four-channel"),
                           ("raw", "dofp")):
        found, frames = scan_polarimetric(tmp_path / folder)
        assert found == layout and len(frames) == 1
        img = frames[0].read()
        if layout == "dofp":
            cap = capture_from_array(img, load_camera("sony_imx250mzr"))
            assert cap.intensities.shape == (16, 24, 4)
        else:
            np.testing.assert_array_equal(img, y8)


def test_incomplete_per_angle_files_are_reported(tmp_path):
    write_image(tmp_path / "x_0.png", np.zeros((4, 4), np.uint8))
    write_image(tmp_path / "x_45.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(DatasetError, match="incomplete"):
        scan_polarimetric(tmp_path)


def test_a_lone_four_channel_image_named_like_an_angle_is_four_channel(tmp_path):
    write_image(tmp_path / "scene_0.png", np.zeros((4, 4, 4), np.uint8))
    layout, frames = scan_polarimetric(tmp_path)
    assert layout == "four-channel" and len(frames) == 1


def test_forced_polaraug_layout_needs_a_manifest(tmp_path):
    write_image(tmp_path / "f.png", np.zeros((4, 4, 4), np.uint16))
    write_image(tmp_path / ".f.abc.tmp.png", np.zeros((4, 4, 4), np.uint16))  # an interrupted write
    with pytest.raises(DatasetError, match="no manifest.json"):
        scan_polarimetric(tmp_path, "polaraug")
    layout, frames = scan_polarimetric(tmp_path)
    assert layout == "four-channel" and [f.name for f in frames] == ["f.png"]
