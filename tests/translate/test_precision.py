"""translate writes the target camera's precision: the depth, the files' sBIT, the manifest, and every reader."""

import dataclasses

import cv2
import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from polaraug.cameras import load_camera
from polaraug.cli import app
from polaraug.data.export.encoded import export_encoded
from polaraug.data.polarset import read_polarset
from polaraug.errors import InputError
from polaraug.io.images import read_image
from polaraug.io.significant import png_significant_bits
from polaraug.physics import camera_matrix
from polaraug.physics.quantize import check_quantized
from polaraug.synth.generate import SynthConfig, generate
from polaraug.translate import ConstrainedCycleGAN, TranslatorConfig, save_checkpoint
from polaraug.translate.precision import output_bits

runner = CliRunner()


@pytest.mark.parametrize(("depth", "expect"), [(None, 8), (8, 8), (10, 10), (11, 12), (12, 12), (14, 16), (20, 16)])
def test_the_default_depth_is_the_cameras_rounded_up(depth, expect):
    cam = dataclasses.replace(load_camera("ideal"), bit_depth=depth)
    assert output_bits(cam) == expect
    assert output_bits(cam, 16) == 16  # --bits wins


def test_depths_translate_cannot_write_are_refused():
    with pytest.raises(InputError, match="--bits must be one of 8, 10, 12, 16"):
        output_bits(load_camera("ideal"), 14)


@pytest.fixture(scope="module")
def src(tmp_path_factory):
    root = tmp_path_factory.mktemp("p")
    generate(SynthConfig(n=3, width=48, height=40, seed=4, mode="rgb"), root / "bdd", workers=1, progress=False)
    cfg = TranslatorConfig(head="stokes", ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32)
    save_checkpoint(ConstrainedCycleGAN(cfg, camera_matrix()), root / "s.pt", step=0, epoch=0, camera_name="ideal")
    cam = {**load_camera("ideal").to_dict(), "name": "twelve", "bit_depth": 12}
    (root / "twelve.yaml").write_text(yaml.safe_dump(cam))
    return root


def _translate(src, out, *extra):
    res = runner.invoke(app, ["translate", str(src / "bdd"), str(out), "--checkpoint", str(src / "s.pt"),
                              "--workers", "1", *extra])
    assert res.exit_code == 0, res.output
    return read_polarset(out)


@pytest.mark.parametrize(("extra", "bits"), [((), 8), (("--calibration", "twelve"), 12), (("--bits", "10"), 10)])
def test_files_and_manifest_declare_the_depth_and_read_back_identically(src, tmp_path, extra, bits):
    extra = tuple(str(src / "twelve.yaml") if e == "twelve" else e for e in extra)
    ps = _translate(src, tmp_path / "out", *extra)
    assert ps.bits == ps.manifest["bit_depth"] == bits
    frames = [f for s in ps.splits for f in ps.frames(s)]
    for frame in frames:
        assert png_significant_bits(frame.image) == bits
        raw = cv2.imread(str(frame.image), cv2.IMREAD_UNCHANGED)  # as stored, OpenCV order
        values = read_image(frame.image)
        shift = 8 * raw.dtype.itemsize - bits
        assert values.max() <= 2**bits - 1 and values.max() > 2 ** (bits - 2)  # the depth's full range in use
        assert np.array_equal(values, raw[..., [2, 1, 0, 3]] >> shift) and not np.any(raw & ((1 << shift) - 1))
        assert check_quantized(values, ps.camera.matrix(), bits=bits) == 0
        y = ps.load(frame)  # the set's reader: values / (2**bits - 1)
        assert np.array_equal(y, values.astype(np.float32) / np.float32(2**bits - 1))
    res = runner.invoke(app, ["validate", str(tmp_path / "out"), "--max-inadmissible", "0", "--workers", "1"])
    assert res.exit_code == 0, res.output


def test_exports_and_detector_reads_see_the_same_image(src, tmp_path):
    """export-yolo re-encodes 8 bits from the values; the YOLO folder translate links, read as ultralytics does
    (16-bit samples >> 8), holds the 12-bit image's top bits."""
    ps = _translate(src, tmp_path / "out", "--calibration", str(src / "twelve.yaml"))
    frame = min((f for s in ps.splits for f in ps.frames(s)), key=lambda f: f.stem)
    values = read_image(frame.image)
    linked = next((tmp_path / "out" / "yolo" / "images").rglob(f"{frame.flat_stem}.png"))
    assert np.array_equal(cv2.imread(str(linked), cv2.IMREAD_UNCHANGED)[..., [2, 1, 0, 3]] >> 8, values >> 4)
    export_encoded(ps, tmp_path / "yolo8")
    eight = read_image(next((tmp_path / "yolo8" / "images").rglob(f"{frame.flat_stem}.png")))
    assert eight.dtype == np.uint8
    assert np.abs(eight.astype(np.float64) / 255 - values / 4095).max() <= 1.5 / 255  # rounding, admissible nudges
