import math

import numpy as np
import pytest
import yaml

from polaraug.cameras import CalibrationFileError, Camera, builtin_names, load_camera, save_camera
from polaraug.physics import camera_matrix, pseudo_inverse

GOOD = {
    "name": "cam",
    "angles_deg": [0.5, 44, 91, 135],
    "gains": [1.0, 1.02, 0.97, 1.01],
    "extinction_ratios": [150, 200, math.inf, 180],
    "dofp_pattern": [[90, 45], [135, 0]],
    "bit_depth": 12,
}


def test_builtin_cameras_load_and_have_the_documented_patterns():
    assert {"ideal", "sony_imx250mzr", "polarcam_4d"} <= set(builtin_names())
    assert load_camera("sony_imx250mzr").dofp_pattern == ((90, 45), (135, 0))
    assert load_camera("polarcam_4d").dofp_pattern == ((45, 0), (90, 135))
    ideal = load_camera("ideal")
    assert ideal.dofp_pattern is None
    np.testing.assert_allclose(pseudo_inverse(ideal.matrix(np.float64)),
                               [[0.5, 0.5, 0.5, 0.5], [1, 0, -1, 0], [0, 1, 0, -1]], atol=1e-12)


def test_round_trip(tmp_path):
    path = tmp_path / "cam.yaml"
    path.write_text(yaml.safe_dump(GOOD))
    cam = load_camera(path)
    np.testing.assert_allclose(cam.matrix(np.float64), camera_matrix(GOOD["angles_deg"], GOOD["gains"],
                                                                     GOOD["extinction_ratios"], np.float64))
    out = save_camera(cam, tmp_path / "sub" / "copy.yaml")
    again = load_camera(out)
    assert again == cam  # path is excluded from equality
    assert again.extinction_ratios[2] == math.inf
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["copy.yaml"]  # no temporary files left


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"gains": [1, 1, 1]}, "gains"),
        ({"gains": [1, 1, 0, 1]}, "gains"),
        ({"gains": [1, "x", 1, 1]}, "gains"),
        ({"angles_deg": None}, "angles_deg"),
        ({"extinction_ratios": [0.5, 2, 2, 2]}, "extinction_ratios"),
        ({"dofp_pattern": [[0, 45], [90, 90]]}, "dofp_pattern"),
        ({"dofp_pattern": [0, 45, 90, 135]}, "dofp_pattern"),
        ({"bit_depth": 12.5}, "bit_depth"),
        ({"bit_depth": 0}, "bit_depth"),
        ({"name": ""}, "name"),
        ({"gain": [1, 1, 1, 1]}, "gain"),  # typo: unknown field
        ({"schema": "other/2"}, "schema"),
    ],
)
def test_bad_files_fail_naming_the_field(tmp_path, change, field):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**GOOD, **change}))
    with pytest.raises(CalibrationFileError, match=rf"bad\.yaml: field '{field}'"):
        load_camera(path)


@pytest.mark.parametrize("missing", ["name", "angles_deg", "gains", "extinction_ratios"])
def test_missing_fields_are_named(tmp_path, missing):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({k: v for k, v in GOOD.items() if k != missing}))
    with pytest.raises(CalibrationFileError, match=f"field '{missing}' is missing"):
        load_camera(path)


def test_unreadable_and_unknown_files(tmp_path):
    (tmp_path / "broken.yaml").write_text("gains: [1, 1\n")
    with pytest.raises(CalibrationFileError, match="broken.yaml: cannot read"):
        load_camera(tmp_path / "broken.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(CalibrationFileError, match="list.yaml: expected a YAML mapping"):
        load_camera(tmp_path / "list.yaml")
    with pytest.raises(CalibrationFileError, match="no_such_camera: no such calibration file"):
        load_camera("no_such_camera")


def test_camera_to_dict_is_valid_schema():
    cam = Camera(name="x", gains=(1.1, 0.9, 1.0, 1.0))
    d = cam.to_dict()
    assert d["schema"] == "polaraug-camera/1" and "dofp_pattern" not in d


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"gains": [1, math.inf, 1, 1]}, "gains"),
        ({"angles_deg": [0, 45, 10**400, 135]}, "angles_deg"),
        ({"gains": ["1e3", 1, 1, 1]}, "gains"),
        ({"dofp_pattern": [["90", 45], [135, 0]]}, "dofp_pattern"),
    ],
)
def test_non_finite_and_non_numeric_values_are_rejected(tmp_path, change, field):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**GOOD, **change}))
    with pytest.raises(CalibrationFileError, match=rf"field '{field}'"):
        load_camera(path)


def test_a_camera_that_cannot_measure_polarization_is_rejected(tmp_path):
    for change in ({"angles_deg": [0, 0, 0, 0]}, {"extinction_ratios": [1, 1, 1, 1]}):
        path = tmp_path / "flat.yaml"
        path.write_text(yaml.safe_dump({**GOOD, **change}))
        with pytest.raises(CalibrationFileError, match="cannot measure linear polarization"):
            load_camera(path)


def test_save_refuses_an_invalid_camera_and_writes_nothing(tmp_path):
    with pytest.raises(CalibrationFileError, match="gains"):
        save_camera(Camera(name="x", gains=(1.0, math.nan, 1.0, 1.0)), tmp_path / "x.yaml")
    assert list(tmp_path.iterdir()) == []


def _with_sensor(tmp_path, sensor, name="s.yaml"):
    data = yaml.safe_load((load_camera("shifted_dofp").path).read_text())
    data["sensor"] = sensor
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_sensor_section_takes_the_cameras_depth_and_mosaic_and_round_trips(tmp_path):
    cam = load_camera(_with_sensor(tmp_path, {"noise_a": 0.001, "noise_b": [1e-5, 2e-5, 1e-5, 2e-5],
                                              "black_level": 0.01, "demosaic": "edge-aware"}))
    s = cam.sensor
    assert s.noise_a == (0.001,) * 4 and s.noise_b == (1e-5, 2e-5, 1e-5, 2e-5) and s.demosaic == "edge-aware"
    assert s.bits == 12 and s.dofp_pattern == cam.dofp_pattern and s.gamma == 1.0 and s.blur_sigma == 0.0
    back = load_camera(save_camera(cam, tmp_path / "back.yaml"))
    assert back.sensor == cam.sensor
    assert "sensor" not in load_camera("shifted_dofp").to_dict()  # cameras without one stay as they were


@pytest.mark.parametrize(("sensor", "field"), [({"noise_a": -1.0}, "sensor.noise_a"),
                                               ({"noise_b": [1, 2]}, "sensor.noise_b"),
                                               ({"demosaic": "vng"}, "sensor"),
                                               ({"shutter": 1}, "sensor.shutter"),
                                               ({"gamma": "2.2"}, "sensor.gamma"),
                                               ([1, 2], "sensor")])
def test_bad_sensor_sections_fail_naming_the_field(tmp_path, sensor, field):
    with pytest.raises(CalibrationFileError, match=f"field '{field}'"):
        load_camera(_with_sensor(tmp_path, sensor))
