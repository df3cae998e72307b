import json

import pytest

import polaraug.data.jsonstream as js
from polaraug.data.errors import DatasetError

ITEMS = [{"name": f"f{i}.jpg", "labels": [{"id": str(j), "s": "x" * (i % 7)} for j in range(i % 4)]}
         for i in range(60)]


@pytest.fixture(autouse=True)
def tiny_chunks(monkeypatch):
    monkeypatch.setattr(js, "CHUNK", 13)  # items straddle many chunk boundaries
    monkeypatch.setattr(js, "MAX_ITEM", 400)


@pytest.mark.parametrize("doc", [ITEMS, {"frames": ITEMS, "config": {"a": [1, {"b": 2}]}},
                                 {"config": {"a": "]}"}, "frames": ITEMS}, []])
def test_streams_bare_and_wrapped_arrays(tmp_path, doc):
    path = tmp_path / "x.json"
    path.write_text(json.dumps(doc, indent=2))
    expected = doc if isinstance(doc, list) else doc["frames"]
    assert list(js.iter_json_array(path)) == expected


def test_object_without_the_key_yields_nothing(tmp_path):
    (tmp_path / "x.json").write_text('{"config": {}}')
    assert list(js.iter_json_array(tmp_path / "x.json")) == []


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t[:-40], "malformed JSON|unexpected end"),
        (lambda t: t.replace('"f30.jpg",', '"f30.jpg"', 1), "malformed JSON"),
        (lambda t: t + "\n[]", "extra data"),
        (lambda t: "7", "expected a JSON array or object"),
    ],
)
def test_errors_name_file_and_line(tmp_path, mutate, message):
    text = json.dumps(ITEMS, indent=1)
    path = tmp_path / "x.json"
    path.write_text(mutate(text))
    with pytest.raises(DatasetError, match=message) as err:
        list(js.iter_json_array(path))
    assert err.value.path == path and err.value.line is not None


def test_error_line_is_exact(tmp_path):
    text = json.dumps(ITEMS, indent=1)
    broken = text.replace('"f30.jpg",', '"f30.jpg" "oops",', 1)
    (tmp_path / "x.json").write_text(broken)
    with pytest.raises(DatasetError) as err:
        list(js.iter_json_array(tmp_path / "x.json"))
    assert err.value.line == broken[: broken.index('"oops"')].count("\n") + 1


def test_non_utf8_is_reported(tmp_path):
    (tmp_path / "x.json").write_bytes(b'[{"name": "\xff\xfe"}]')
    with pytest.raises(DatasetError, match="UTF-8"):
        list(js.iter_json_array(tmp_path / "x.json"))


def test_numbers_cut_by_a_chunk_boundary_and_a_bom(tmp_path, monkeypatch):
    monkeypatch.setattr(js, "CHUNK", 5)
    (tmp_path / "n.json").write_text("[1, 12345, 3, -0.125e2]")
    assert list(js.iter_json_array(tmp_path / "n.json")) == [1, 12345, 3, -12.5]
    (tmp_path / "w.json").write_text('{"n": 123456789, "frames": [1]}')
    assert list(js.iter_json_array(tmp_path / "w.json")) == [1]
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(ITEMS[:3]).encode())
    assert list(js.iter_json_array(tmp_path / "bom.json")) == ITEMS[:3]
