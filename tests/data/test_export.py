import os

import pytest
import yaml

from polaraug.data.bdd100k import read_bdd100k
from polaraug.data.export import export_yolo, write_bdd100k_labels, write_kitti_labels
from polaraug.data.kitti import read_kitti
from tests.data.fixtures import make_bdd100k, make_kitti


def _boxes(frames):
    return [[(b.cls, b.ignore, b.occluded, b.truncated, round(b.x1, 2), round(b.y1, 2), round(b.x2, 2),
              round(b.y2, 2)) for b in f.boxes] for f in frames]


def test_bdd100k_round_trip(tmp_path):
    root = make_bdd100k(tmp_path / "src")
    frames = list(read_bdd100k(root, "val"))
    out = tmp_path / "copy"
    (out / "images" / "100k").mkdir(parents=True)
    os.symlink(root / "images" / "100k" / "val", out / "images" / "100k" / "val")
    assert write_bdd100k_labels(frames, out / "labels" / "det_20" / "det_val.json") == 3
    again = list(read_bdd100k(out, "val"))
    assert _boxes(again) == _boxes(frames)
    assert [(f.weather, f.timeofday) for f in again] == [(f.weather, f.timeofday) for f in frames]


def test_kitti_round_trip(tmp_path):
    root = make_kitti(tmp_path / "src")
    frames = list(read_kitti(root))
    out = tmp_path / "copy" / "training"
    out.mkdir(parents=True)
    os.symlink(root / "training" / "image_2", out / "image_2")
    write_kitti_labels(frames, out / "label_2")
    again = list(read_kitti(tmp_path / "copy"))
    assert _boxes(again) == _boxes(frames)
    assert [b.attributes["kitti_type"] for b in again[1].boxes] == ["Van", "Cyclist"]


def test_yolo_export_layout_and_labels(tmp_path):
    frames = list(read_bdd100k(make_bdd100k(tmp_path / "src"), "val"))
    report = export_yolo({"train": frames[:2], "val": frames[2:]}, tmp_path / "yolo")
    data = yaml.safe_load((tmp_path / "yolo" / "data.yaml").read_text())
    assert data["channels"] == 3 and data["names"][0] == "pedestrian" and data["val"] == "images/val"
    lines = (tmp_path / "yolo" / "labels" / "train" / "a0000001-00000001.txt").read_text().splitlines()
    assert len(lines) == 2 and report.ignored_boxes_dropped == 3  # other vehicle, crowd bike, trailer
    cls, cx, cy, w, h = lines[0].split()
    assert cls == "2" and float(cx) == pytest.approx(60 / 1280) and float(w) == pytest.approx(100 / 1280)
    assert (tmp_path / "yolo" / "labels" / "train" / "a0000002-00000002.txt").read_text() == ""
    assert (tmp_path / "yolo" / "images" / "val" / "a0000003-00000003.jpg").is_file()
