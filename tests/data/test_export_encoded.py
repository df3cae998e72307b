import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.data.encodings import encode
from polaraug.data.polarset import read_polarset
from polaraug.io.images import read_image
from polaraug.physics.quantize import check_quantized
from polaraug.synth.generate import SynthConfig, generate


@pytest.fixture(scope="module")
def polar_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("p") / "set"
    generate(SynthConfig(n=4, width=64, height=48, seed=6, mode="polar", val_fraction=0.5), root, workers=1,
             progress=False)
    return root


@pytest.mark.parametrize(("encoding", "channels"), [("intensities", 4), ("stokes", 3), ("i0-i45-i90", 3),
                                                    ("hsv", 3)])
def test_export_yolo_in_each_encoding(polar_set, tmp_path, encoding, channels):
    res = CliRunner().invoke(app, ["export-yolo", str(polar_set), str(tmp_path / "y"), "--encoding", encoding])
    assert res.exit_code == 0, res.output
    data = yaml.safe_load((tmp_path / "y" / "data.yaml").read_text())
    assert data["channels"] == channels and set(data) >= {"train", "val", "names"}
    ps = read_polarset(polar_set)
    for split in ps.splits:
        for f in ps.frames(split):
            img = read_image(tmp_path / "y" / "images" / split / f.name)
            assert img.dtype == np.uint8 and img.shape == (48, 64, channels)
            labels = (tmp_path / "y" / "labels" / split / f.name.replace(".png", ".txt")).read_text().splitlines()
            assert len(labels) == sum(not b.ignore for b in f.boxes)
            if encoding == "intensities":
                assert check_quantized(img, ps.camera.matrix()) == 0
            if encoding == "hsv":  # periodic hue: round(AoLP/π·256) mod 256
                expected = np.mod(np.round(encode(ps.load(f), ps.camera.matrix(), "hsv")[..., 0] * 256), 256)
                d = np.abs(((img[..., 0].astype(int) - expected + 128) % 256) - 128)
                assert d.max() <= 1


def test_unknown_encoding_is_an_error(polar_set, tmp_path):
    res = CliRunner().invoke(app, ["export-yolo", str(polar_set), str(tmp_path / "y"), "--encoding", "rgb"])
    assert res.exit_code == 2 and "unknown encoding" in res.output


def test_dotted_stems_keep_image_and_label_names_together(tmp_path):
    from polaraug.data.export.encoded import export_encoded
    from polaraug.data.polarset import read_polarset
    from polaraug.synth.generate import SynthConfig, generate

    root = tmp_path / "set"
    generate(SynthConfig(n=2, width=32, height=32, seed=0, mode="polar", val_fraction=0.0), root, workers=1,
             progress=False)
    for p in (root / "images" / "train").glob("*.png"):  # rename a frame to a dotted stem, labels too
        p.rename(p.with_name("scene.v2." + p.name))
    labels = root / "labels" / "det_train.json"
    import json

    records = json.loads(labels.read_text())
    for r in records:
        r["name"] = "scene.v2." + r["name"]
    labels.write_text(json.dumps(records))
    export_encoded(read_polarset(root), tmp_path / "out", "stokes")
    images = sorted(p.stem for p in (tmp_path / "out" / "images" / "train").iterdir())
    labels_out = sorted(p.stem for p in (tmp_path / "out" / "labels" / "train").iterdir())
    assert images == labels_out and all(s.startswith("scene.v2.") for s in images)
