import pytest

from polaraug.data.errors import DatasetError, SkipReport
from polaraug.data.kitti import read_kitti
from tests.data.fixtures import make_kitti


def test_reads_boxes_classes_sizes_and_dontcare(tmp_path):
    frames = list(read_kitti(make_kitti(tmp_path)))
    a, b = frames
    assert (a.width, a.height) == (1242, 375) and (b.width, b.height) == (1224, 370)
    assert [(x.cls, x.ignore) for x in a.boxes] == [("car", False), ("pedestrian", False), (None, True)]
    assert (a.boxes[0].x1, a.boxes[0].y1, a.boxes[0].x2, a.boxes[0].y2) == (587.01, 173.33, 614.12, 200.12)
    # 16-field line (score) accepted; Van -> car; Cyclist -> rider; Misc dropped.
    assert [(x.cls, x.occluded, x.truncated) for x in b.boxes] == [("car", True, True), ("rider", True, False)]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("Car 0.00 0 -1.58 587.01 173.33 614.12", "expected 15 fields"),
        ("Car 0.00 0 -1.58 614.12 173.33 587.01 200.12 1.65 1.67 3.64 -0.65 1.71 46.70 -1.59", "x2 < x1"),
        ("Car 0.00 0 -1.58 587.01 173.33 1400.0 200.12 1.65 1.67 3.64 -0.65 1.71 46.70 -1.59", "outside"),
        ("Car x 0 -1.58 1 1 2 2 1.65 1.67 3.64 -0.65 1.71 46.70 -1.59", "non-numeric"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, line, message):
    good = "Car 0.00 0 -1.58 587.01 173.33 614.12 200.12 1.65 1.67 3.64 -0.65 1.71 46.70 -1.59"
    root = make_kitti(tmp_path, {"000000": [good], "000001": [good, line]})
    with pytest.raises(DatasetError, match=message) as err:
        list(read_kitti(root))
    assert str(err.value).startswith(str(root / "training" / "label_2" / "000001.txt") + ":2:")
    report = SkipReport()
    assert [f.name for f in read_kitti(root, skip_bad=report)] == ["000000.png"]
    assert len(report) == 1


def test_converted_sets_keep_their_frames_dropping_unknown_types_and_empty_boxes_alone(tmp_path):
    """What third-party KITTI conversions look like: upper-case types, non-KITTI types, zero-width boxes."""
    lines = ["PEDESTRIAN 0 0 -2.38 0 96.0 0 294.0 1.91 0.6 0.65 -7.82 1.27 9.78 -3.06",  # x1 = x2 = 0
             "PEDESTRIAN 0 0 1.37 430.0 264.0 447.0 300.0 1.88 0.77 0.65 10.85 0.86 51.73 1.58",
             "ON_ROAD_OBSTACLE 0 0 1.6 265.0 270.0 289.0 289.0 1.62 2.14 4.08 3.93 1.25 89.13 1.65",
             "car 0.00 0 -1.58 587.01 173.33 614.12 200.12 1.65 1.67 3.64 -0.65 1.71 46.70 -1.59",
             "Boat 0.00 0 -1.58 1 1 2 2 1.65 1.67 3.64 -0.65 1.71 46.70 -1.59"]
    root = make_kitti(tmp_path, {"000000": lines, "000001": lines[1:2]})
    strict = list(read_kitti(root))  # no frame is lost, even without a skip report
    assert [len(f.boxes) for f in strict] == [2, 1]
    report = SkipReport()
    frames = list(read_kitti(root, skip_bad=report))
    assert [(b.cls, b.x1) for b in frames[0].boxes] == [("pedestrian", 430.0), ("car", 587.01)]
    assert len(report) == 0 and report.dropped_boxes == {
        "box outside the image": 1, "unknown KITTI object type 'ON_ROAD_OBSTACLE'": 1,
        "unknown KITTI object type 'Boat'": 1}


def test_truncated_image_is_reported(tmp_path):
    root = make_kitti(tmp_path)
    (root / "training" / "image_2" / "000001.png").write_bytes(b"\x89PNG\r\n")
    with pytest.raises(Exception, match="000001.png"):
        list(read_kitti(root))
    report = SkipReport()
    assert len(list(read_kitti(root, skip_bad=report))) == 1 and len(report) == 1


def test_empty_or_missing_folders(tmp_path):
    with pytest.raises(DatasetError, match="image_2"):
        list(read_kitti(tmp_path))
    (tmp_path / "training" / "image_2").mkdir(parents=True)
    with pytest.raises(DatasetError, match="no PNG images"):
        list(read_kitti(tmp_path))


def test_training_split_without_labels_is_an_error_not_empty_frames(tmp_path):
    root = make_kitti(tmp_path)
    for p in (root / "training" / "label_2").iterdir():
        p.unlink()
    (root / "training" / "label_2").rmdir()
    with pytest.raises(DatasetError, match="label_2"):
        list(read_kitti(root))
