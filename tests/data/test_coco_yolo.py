"""COCO and YOLO sources and class maps: boxes in pixels, class names mapped, unknown classes and empty boxes
dropped alone and counted, the layouts detected."""

import json
from pathlib import Path

import pytest

from polaraug.data.classmap import ClassMap
from polaraug.data.errors import SkipReport
from polaraug.data.sources import detect_format, source_frames
from polaraug.errors import ConfigError
from tests.data.fixtures import write_jpg


def _coco(root, layout="coco"):
    doc = {"images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48},
                      {"id": 2, "file_name": "b.jpg", "width": 64, "height": 48}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [1, 2, 10, 8], "iscrowd": 0},
                           {"id": 2, "image_id": 1, "category_id": 1, "bbox": [20, 10, 5, 20], "iscrowd": 1},
                           {"id": 3, "image_id": 1, "category_id": 7, "bbox": [30, 10, 5, 5], "iscrowd": 0},
                           {"id": 4, "image_id": 2, "category_id": 3, "bbox": [63.5, 10, 0, 5], "iscrowd": 0}],
           "categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}, {"id": 7, "name": "zebra"}]}
    if layout == "coco":
        ann, images = root / "annotations" / "instances_val2017.json", root / "val2017"
    else:  # Roboflow
        ann, images = root / "valid" / "_annotations.coco.json", root / "valid"
    ann.parent.mkdir(parents=True, exist_ok=True)
    ann.write_text(json.dumps(doc))
    for name in ("a.jpg", "b.jpg"):
        write_jpg(images / name, 64, 48)
    return root


@pytest.mark.parametrize("layout", ["coco", "roboflow"])
def test_coco_boxes_classes_and_counts(tmp_path, layout):
    root = _coco(tmp_path, layout)
    assert detect_format(root) == "coco"
    report = SkipReport()
    a, b = source_frames(root, skip=report)
    assert a.split == b.split == "val" and (a.width, a.height) == (64, 48)
    assert [(x.cls, x.ignore, (x.x1, x.y1, x.x2, x.y2)) for x in a.boxes] == [
        ("car", False, (1.0, 2.0, 11.0, 10.0)), ("pedestrian", True, (20.0, 10.0, 25.0, 30.0))]  # crowd: ignore
    assert b.boxes == []  # its only box has no area: dropped, the frame kept
    assert report.dropped_boxes == {"unknown class 'zebra'": 1, "box with no area inside the image": 1}


def test_class_map_renames_ignores_and_drops_in_every_reader(tmp_path):
    cmap_file = tmp_path / "map.yaml"
    cmap_file.write_text("ZEBRA: car\nPerson: drop\ncar: ignore\n")
    cmap = ClassMap.load(cmap_file)
    a, _ = source_frames(_coco(tmp_path / "c"), class_map=cmap)
    assert [(x.cls, x.ignore) for x in a.boxes] == [(None, True), ("car", False)]  # car -> ignore, zebra -> car

    from tests.data.fixtures import make_kitti

    kitti = make_kitti(tmp_path / "k", {"000000": [
        "ZEBRA 0 0 0 1 1 20 20 1 1 1 0 0 0 0", "Car 0 0 0 30 30 60 60 1 1 1 0 0 0 0"]})
    frame = next(iter(source_frames(kitti, class_map=cmap)))
    assert [(x.cls, x.ignore) for x in frame.boxes] == [("car", False), (None, True)]

    bad = tmp_path / "bad.yaml"
    bad.write_text("zebra: horse\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: 'zebra': 'horse' is not one of the canonical classes"):
        ClassMap.load(bad)


def test_malformed_coco_and_yolo_files_name_the_file(tmp_path):
    from polaraug.data.errors import DatasetError

    root = _coco(tmp_path / "c")
    ann = root / "annotations" / "instances_val2017.json"
    doc = json.loads(ann.read_text())
    doc["annotations"][0]["image_id"] = [1]
    ann.write_text(json.dumps(doc))
    with pytest.raises(DatasetError, match="instances_val2017.json: malformed category or annotation id"):
        list(source_frames(root))
    y = tmp_path / "y"
    y.mkdir()
    (y / "data.yaml").write_text("train: images\nnames: {car: 0}\n")
    with pytest.raises(DatasetError, match="data.yaml: data.yaml needs 'names'"):
        list(source_frames(y))


def test_yolo_sources_given_by_relative_path_and_roboflow_layouts(tmp_path, monkeypatch):
    root = tmp_path / "rf"
    root.mkdir()
    (root / "data.yaml").write_text("train: ../train/images\nval: ../valid/images\nnames: [car]\n")
    for split in ("train", "valid"):
        write_jpg(root / split / "images" / "a.jpg", 40, 30)
    (root / "train" / "labels").mkdir()
    (root / "train" / "labels" / "a.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    monkeypatch.chdir(tmp_path)
    train, val = source_frames(Path("rf"))
    assert (train.split, val.split) == ("train", "val") and [b.cls for b in train.boxes] == ["car"]


def test_yolo_source_reads_normalised_boxes_and_names(tmp_path):
    root = tmp_path / "y"
    root.mkdir()
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\nnames: [person, car, kite]\n")
    for split in ("train", "val"):
        write_jpg(root / "images" / split / "f.jpg", 100, 50)
    (root / "labels" / "train").mkdir(parents=True)
    (root / "labels" / "train" / "f.txt").write_text("1 0.5 0.5 0.2 0.4\n2 0.1 0.1 0.1 0.1\n0 1.0 0.5 0.0 0.2\n")
    assert detect_format(root) == "yolo"
    report = SkipReport()
    train, val = source_frames(root, skip=report)
    assert (train.split, val.split, train.name) == ("train", "val", "f.jpg")
    assert [(b.cls, b.x1, b.y1, b.x2, b.y2) for b in train.boxes] == [("car", 40.0, 15.0, 60.0, 35.0)]
    assert val.boxes == []  # no label file: no objects
    assert report.dropped_boxes == {"unknown class 'kite'": 1, "box outside the image": 1}  # x1 = x2 = width
