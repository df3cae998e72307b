import json

import pytest

from polaraug.data.bdd100k import read_bdd100k, unlabeled_images
from polaraug.data.errors import DatasetError, SkipReport
from tests.data.fixtures import BDD_FRAMES, make_bdd100k


@pytest.mark.parametrize("fmt", ["det_20", "det_20_wrapped", "2018", "per_image"])
def test_all_label_formats_give_the_same_frames(tmp_path, fmt):
    frames = list(read_bdd100k(make_bdd100k(tmp_path, fmt), "val"))
    assert [f.name for f in frames] == [f["name"] for f in BDD_FRAMES]
    a, b, c = frames
    assert (a.weather, a.timeofday, a.scene) == ("rainy", "night", "city street")
    assert (a.width, a.height) == (1280, 720)
    # Inclusive Scalabel corners become continuous coordinates; poly2d-only labels are skipped.
    assert [(bx.cls, bx.x1, bx.y1, bx.x2, bx.y2) for bx in a.boxes] == [
        ("car", 10.0, 20.0, 110.0, 70.0), ("pedestrian", 200.5, 100.0, 231.0, 181.0),
        ("car", 0.0, 0.0, 10.0, 10.0), ("bicycle", 300.0, 300.0, 350.0, 340.0)]
    assert [bx.ignore for bx in a.boxes] == [False, False, True, True]  # other vehicle; crowd
    assert a.boxes[0].occluded and not a.boxes[0].truncated
    assert a.boxes[1].truncated and not a.boxes[1].occluded  # capitalised attribute keys
    assert b.boxes == []  # a frame without 'labels'
    assert [(bx.cls, bx.ignore) for bx in c.boxes] == [("motorcycle", False), ("car", False), ("truck", True)]
    assert c.boxes[0].x2 == 1280.0 and c.boxes[0].y2 == 720.0  # last pixel column/row


def test_images_without_entries_are_reported_not_read(tmp_path):
    root = make_bdd100k(tmp_path, extra_images=("zz-unlisted.jpg",))
    frames = list(read_bdd100k(root, "val"))
    assert len(frames) == 3
    assert [p.name for p in unlabeled_images(root, "val", frames)] == ["zz-unlisted.jpg"]


def test_test_split_without_labels_yields_images(tmp_path):
    root = make_bdd100k(tmp_path, split="val")
    (root / "images" / "100k" / "test").mkdir(parents=True)
    (root / "images" / "100k" / "test" / "t.jpg").write_bytes(b"")
    assert [f.name for f in read_bdd100k(root, "test")] == ["t.jpg"]


def _with_bad_frame(tmp_path, bad):
    frames = [BDD_FRAMES[1], bad, BDD_FRAMES[2]]
    root = make_bdd100k(tmp_path, frames=[f for f in frames if not f["name"].startswith("..")])
    (root / "labels" / "det_20" / "det_val.json").write_text(json.dumps(frames, indent=1))
    return root


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"name": "bad.jpg", "labels": [{"id": "9", "category": "car", "box2d": {"x1": 50, "y1": 5, "x2": 40,
                                                                              "y2": 9}}]}, "x2 < x1"),
        ({"name": "bad.jpg", "labels": [{"id": "9", "category": "car", "box2d": {"x1": 5, "y1": 5, "x2": 1400,
                                                                              "y2": 9}}]}, "outside the 1280x720"),
        ({"name": "bad.jpg", "labels": [{"id": "9", "category": "car", "box2d": {"x1": 5}}]}, "box2d needs"),
        ({"name": "../../etc/passwd"}, "escapes the image folder"),
    ],
)
def test_bad_frames_fail_or_are_skipped_and_counted(tmp_path, bad, message):
    root = _with_bad_frame(tmp_path, bad)
    with pytest.raises(DatasetError, match=message) as err:
        list(read_bdd100k(root, "val"))
    assert "det_val.json" in str(err.value)
    report = SkipReport()
    frames = list(read_bdd100k(root, "val", skip_bad=report))
    assert len(frames) == 2 and len(report) == 1 and message.split()[0] in report.skipped[0]


def test_missing_image_and_malformed_json_name_the_file(tmp_path):
    root = make_bdd100k(tmp_path)
    (root / "images" / "100k" / "val" / BDD_FRAMES[2]["name"]).unlink()
    with pytest.raises(DatasetError, match="does not exist"):
        list(read_bdd100k(root, "val"))
    path = root / "labels" / "det_20" / "det_val.json"
    text = json.dumps(BDD_FRAMES, indent=1)
    path.write_text(text.replace('"category": "van"', '"category" "van"'))
    line = text[: text.index('"category": "van"')].count("\n") + 1
    with pytest.raises(DatasetError, match=rf"det_val.json:{line}: malformed JSON"):
        list(read_bdd100k(root, "val"))


def test_missing_folders_are_clear_errors(tmp_path):
    with pytest.raises(DatasetError, match="images/100k"):
        list(read_bdd100k(tmp_path, "train"))
    (tmp_path / "images" / "100k" / "train").mkdir(parents=True)
    with pytest.raises(DatasetError, match="no labels for split 'train'"):
        list(read_bdd100k(tmp_path, "train"))


def test_windows_drive_names_are_refused_and_boxes_outside_dropped_alone(tmp_path):
    root = _with_bad_frame(tmp_path / "escapes", {"name": "D:\\secret.jpg"})
    with pytest.raises(DatasetError, match="escapes"):
        list(read_bdd100k(root, "val"))
    root = _with_bad_frame(tmp_path / "outside", {"name": "bad.jpg", "labels": [
        {"id": "9", "category": "car", "box2d": {"x1": 1280.2, "y1": 5, "x2": 1280.4, "y2": 9}},
        {"id": "10", "category": "Car", "box2d": {"x1": 10, "y1": 5, "x2": 20, "y2": 9}},
        {"id": "11", "category": "zebra", "box2d": {"x1": 10, "y1": 5, "x2": 20, "y2": 9}}]})
    report = SkipReport()
    bad = next(f for f in read_bdd100k(root, "val", skip_bad=report) if f.name == "bad.jpg")
    assert [(b.cls, b.x1) for b in bad.boxes] == [("car", 10.0)]  # "Car": case-insensitive
    assert len(report) == 0 and report.dropped_boxes == {"box outside the image": 1, "unknown class 'zebra'": 1}


def test_bad_per_image_files_are_skipped_or_reported(tmp_path):
    root = make_bdd100k(tmp_path, "per_image")
    folder = root / "labels" / "100k" / "val"
    (folder / "zz-broken.json").write_text("{not json")
    (folder / "zz-list.json").write_text('{"name": "x", "frames": [1]}')
    with pytest.raises(DatasetError, match="zz-broken.json: cannot read"):
        list(read_bdd100k(root, "val"))
    report = SkipReport()
    assert len(list(read_bdd100k(root, "val", skip_bad=report))) == 3 and len(report) == 2
    for p in folder.iterdir():
        p.unlink()
    with pytest.raises(DatasetError, match="no per-image label files"):
        list(read_bdd100k(root, "val"))
