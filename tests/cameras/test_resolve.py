import dataclasses

import numpy as np
import pytest

from polaraug.cameras import CalibrationFileError, Camera, load_camera, save_camera
from polaraug.data.camera_choice import resolve_camera
from polaraug.data.polarset import PolarSetWriter
from polaraug.errors import InputError


@pytest.fixture
def polar_set(tmp_path):
    """A 12-bit polaraug set of a Sony camera whose file says 8 bits."""
    cam = dataclasses.replace(load_camera("sony_imx250mzr"), bit_depth=8)
    writer = PolarSetWriter(tmp_path / "set", cam, bits=12)
    writer.close()
    return tmp_path / "set"


def test_explicit_calibration_wins_over_the_manifest(polar_set, tmp_path):
    assert resolve_camera("polarcam_4d", polar_set).name == "polarcam_4d"
    own = Camera(name="mine", gains=(1.1, 1, 1, 1))
    assert resolve_camera(own, polar_set) is own
    path = save_camera(own, tmp_path / "mine.yaml")
    assert resolve_camera(path, polar_set).gains == own.gains


def test_manifest_camera_carries_the_sets_bit_depth(polar_set):
    cam = resolve_camera(None, polar_set)
    assert cam.name == "sony_imx250mzr" and cam.bit_depth == 12  # the set's depth, not the camera file's 8
    assert resolve_camera("", polar_set).bit_depth == 12  # an empty --calibration is no calibration


def test_default_without_manifest(tmp_path):
    assert resolve_camera(None, tmp_path).name == "ideal"
    assert resolve_camera(None, None, default="sony_imx250mzr").dofp_pattern == ((90, 45), (135, 0))
    ideal = Camera(name="ideal")
    assert resolve_camera(None, tmp_path, default=ideal) is ideal
    np.testing.assert_allclose(resolve_camera().matrix(), ideal.matrix())


def test_required_camera_raises_input_error(tmp_path, polar_set):
    with pytest.raises(InputError, match="no manifest.json; pass --calibration"):
        resolve_camera(None, tmp_path, default=None)
    with pytest.raises(InputError, match="DoFP needs"):
        resolve_camera(None, None, default=None, missing="DoFP needs --calibration")
    assert resolve_camera(None, polar_set, default=None).bit_depth == 12  # a manifest satisfies it


def test_broken_manifest_and_unknown_camera_are_reported(tmp_path):
    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(ValueError, match="schema"):
        resolve_camera(None, tmp_path)
    with pytest.raises(CalibrationFileError, match="no such calibration file"):
        resolve_camera("no_such_camera", tmp_path)
