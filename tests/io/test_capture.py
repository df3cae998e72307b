import json

import numpy as np
import pytest

from polaraug.cameras import Camera, load_camera
from polaraug.inspect import inspect_capture
from polaraug.io.capture import capture_from_array
from polaraug.io.images import ImageReadError

SONY12 = Camera(name="s12", dofp_pattern=((90, 45), (135, 0)), bit_depth=12)


def test_12_bit_mosaic_in_uint16_is_scaled_by_4095_and_saturation_found():
    raw = np.full((8, 8), 2000, np.uint16)
    raw[0, 0] = 4095
    cap = capture_from_array(raw, SONY12)
    np.testing.assert_allclose(cap.intensities[4:, 4:], 2000 / 4095, rtol=1e-6)
    assert cap.saturated[:2, :2].all() and not cap.saturated[4:, 4:].any()  # 3x3 neighbourhood tainted


def test_bit_depth_that_does_not_fit_the_data_is_an_error():
    with pytest.raises(ImageReadError, match="exceed the camera's 12-bit range"):
        capture_from_array(np.full((4, 4), 5000, np.uint16), SONY12, path="f.png")
    with pytest.raises(ImageReadError, match="12-bit but the file holds uint8"):
        capture_from_array(np.zeros((4, 4), np.uint8), SONY12, path="f.png")


def test_fully_saturated_capture_gives_null_statistics(tmp_path):
    cap = capture_from_array(np.full((6, 6, 4), 255, np.uint8), load_camera("ideal"))
    summary = inspect_capture(cap, load_camera("ideal"), tmp_path)
    record = json.loads((tmp_path / "summary.json").read_text())
    assert summary.saturated_fraction == 1.0
    assert record["mean_dolp"] is None and record["inadmissible_fraction"] is None
