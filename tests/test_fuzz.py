"""Bad input gets a one-line error naming the file, never a traceback: every reader fuzzed with mutated files
(polaraug/testing), decompression bombs refused from the header, and the bugs the fuzzing found."""

import json
import random
import struct
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polaraug.errors import ConfigError, InputError
from polaraug.io import images
from polaraug.io.images import ImageReadError, ImageTooLargeError, read_image, write_image
from polaraug.testing.fuzz import (
    ACCEPTABLE,
    BAD_RESULT,
    CLEAN,
    CLEAN_ERRORS,
    FUZZ_MAX_PIXELS,
    OK,
    PARTIAL,
    TRACEBACK,
    classify,
    memory_cap,
    pixel_limit,
    quiet,
    run_case,
    warm_up,
)
from polaraug.testing.mutate import KINDS, mutate
from polaraug.testing.targets import TARGETS, Samples

EXAMPLES = 30  # mutated files per target and test run (derandomized: the same ones every run)


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    return Samples(tmp_path_factory.mktemp("samples"))


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_every_target_reads_its_valid_sample(target, samples):
    result = target.read(samples.template(target))
    assert target.check(result) is None
    assert target.mutable_files(samples.template(target))


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_mutated_files_give_clean_errors_never_tracebacks(target, samples, tmp_path_factory):
    work = tmp_path_factory.mktemp("case") / "case"
    warm_up([target], samples)

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(rnd=st.randoms(use_true_random=False))
    def read_mutated(rnd):
        cases.append(case := run_case(target, samples, work, rnd))
        assert case.outcome in ACCEPTABLE, case

    cases = []
    with memory_cap(), quiet(), pixel_limit(FUZZ_MAX_PIXELS):
        read_mutated()
    assert len(cases) >= EXAMPLES


def test_the_classifier(tmp_path):
    f = tmp_path / "labels.json"
    assert classify(None, f, [], None) == (OK, "")
    assert classify(None, f, [], "box outside")[0] == BAD_RESULT
    assert classify(None, f, ["out.png"], None)[0] == PARTIAL
    assert classify(InputError(f"{f}: bad box"), f, [], None)[0] == CLEAN
    assert classify(FileNotFoundError(f"no such file: {f}"), f, [], None)[0] == CLEAN
    assert classify(InputError(f"{f}: bad\nbox"), f, [], None)[0] == TRACEBACK  # two lines
    assert classify(InputError("bad box"), f, [], None)[0] == TRACEBACK  # names no file
    assert classify(InputError(f"{f}: " + "x" * 2000), f, [], None)[0] == TRACEBACK  # quotes a whole file
    assert classify(ValueError(f"{f}: bad box"), f, [], None)[0] == TRACEBACK  # not polaraug's
    missing = InputError(f"{tmp_path}: no labels")  # a file that is not there is named by where it was looked for
    assert classify(missing, f, [], None, gone_from=tmp_path)[0] == CLEAN
    assert classify(missing, f, [], None)[0] == TRACEBACK


def test_clean_errors_are_what_the_command_line_reports_in_one_line():
    from polaraug.cli._errors import USER_ERRORS

    assert [e.__name__ for e in USER_ERRORS if e not in CLEAN_ERRORS] == ["UsageError"]  # no reader raises it
    assert set(CLEAN_ERRORS) <= set(USER_ERRORS)


@pytest.mark.parametrize("kind", KINDS)
def test_mutations_are_reproducible_from_the_seed(kind):
    data = json.dumps({"a": [1, 2.5, "x"], "b": {"c": None}}).encode()
    runs = [[mutate(data, kind, random.Random(f"s{i}")) for i in range(15)] for _ in range(2)]
    assert runs[0] == runs[1]
    assert any(out != data for _, out in runs[0])


# ---- decompression bombs -------------------------------------------------------------------------------------


def _png_declaring(path, width, height):
    """A valid 2x2 grey PNG whose IHDR then declares width x height (CRC fixed: only the size lies)."""
    write_image(path, np.zeros((2, 2), np.uint8))
    data = bytearray(path.read_bytes())
    ihdr = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:33] = ihdr + struct.pack(">I", zlib.crc32(ihdr))
    path.write_bytes(bytes(data))
    return path


def _tiff_declaring(path, width, height):
    import tifffile

    tifffile.imwrite(path, np.zeros((8, 8), np.uint8), metadata=None)
    data = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tif:
        tags = {t.code: t for t in tif.pages[0].tags.values()}
    for code, value in ((256, width), (257, height)):
        fmt = "<H" if tags[code].dtype == 3 else "<I"
        data[tags[code].valueoffset:tags[code].valueoffset + struct.calcsize(fmt)] = struct.pack(fmt, value)
    path.write_bytes(bytes(data))
    return path


def _npy_declaring(path, shape):
    header = f"{{'descr': '<u2', 'fortran_order': False, 'shape': {shape!r}, }}".ljust(117) + "\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + bytes(16))
    return path


def _bmp_declaring(path, width, height):
    write_image(path, np.zeros((2, 2, 3), np.uint8))
    data = bytearray(path.read_bytes())
    data[18:26] = struct.pack("<ii", width, height)
    path.write_bytes(bytes(data))
    return path


def _no_decoding(monkeypatch):
    import tifffile

    def refuse(*args, **kwargs):
        raise AssertionError("decoded a file whose header is over the limit")

    monkeypatch.setattr(images.cv2, "imread", refuse)
    monkeypatch.setattr(tifffile.TiffPage, "asarray", refuse)
    monkeypatch.setattr(images.np, "load", refuse)


@pytest.mark.parametrize("make", [
    lambda p: _png_declaring(p / "bomb.png", 100_000, 100_000),
    lambda p: _tiff_declaring(p / "bomb.tiff", 100_000, 100_000),
    lambda p: _npy_declaring(p / "bomb.npy", (100_000, 100_000)),
    lambda p: _bmp_declaring(p / "bomb.bmp", 100_000, 100_000),
], ids=["png", "tiff", "npy", "bmp"])
def test_a_header_declaring_a_huge_image_is_refused_without_decoding(tmp_path, monkeypatch, make):
    path = make(tmp_path)
    monkeypatch.delenv(images.MAX_PIXELS_ENV, raising=False)
    _no_decoding(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PIL's DecompressionBombWarning must not leak either
        with pytest.raises(ImageTooLargeError) as e:
            read_image(path)
    message = str(e.value)
    assert "\n" not in message and str(path) in message
    assert "100000x100000" in message and "POLARAUG_MAX_PIXELS=10000000000" in message


def test_raising_the_limit_lets_a_large_real_image_through(tmp_path, monkeypatch):
    from PIL import Image

    img = np.arange(64 * 48 * 3, dtype=np.uint32).reshape(48, 64, 3).astype(np.uint8)
    paths = [write_image(tmp_path / f"real{s}", img) for s in (".png", ".bmp", ".tiff", ".npy")]
    monkeypatch.setenv(images.MAX_PIXELS_ENV, "3000")  # 64 x 48 = 3072 pixels
    for p in paths:
        with pytest.raises(ImageTooLargeError, match=f"{p.name}: the header declares 64x48"):
            read_image(p)
    monkeypatch.setenv(images.MAX_PIXELS_ENV, "3072")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # PIL's own limit below ours: ours decides
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for p in paths:
            np.testing.assert_array_equal(read_image(p), img)
        assert images.image_size(paths[1]) == (64, 48)
    assert Image.MAX_IMAGE_PIXELS == 100  # restored after reading past it


def test_a_bad_limit_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.setenv(images.MAX_PIXELS_ENV, "lots")
    with pytest.raises(ConfigError, match="POLARAUG_MAX_PIXELS='lots': must be a whole number"):
        read_image(write_image(tmp_path / "a.png", np.zeros((2, 2), np.uint8)))


def test_images_that_are_no_images_are_refused(tmp_path):
    import tifffile

    np.save(tmp_path / "empty.npy", np.zeros((0, 5), np.float32))
    np.save(tmp_path / "mask.npy", np.zeros((4, 5), bool))
    np.save(tmp_path / "wide.npy", np.zeros((4, 5, 100), np.uint8))
    tifffile.imwrite(tmp_path / "pages.tiff", np.zeros((2, 5, 6), np.uint8), photometric="minisblack")
    for name, reason in (("empty.npy", "empty image"), ("mask.npy", "pixel type bool"),
                         ("wide.npy", "declares 100 channels"), ("pages.tiff", "a TIFF of 2 pages")):
        with pytest.raises(ImageReadError, match=f"{name}: .*{reason}"):
            read_image(tmp_path / name)
    planar = np.arange(4 * 5 * 6, dtype=np.uint16).reshape(4, 5, 6)  # one plane per channel: read channels last
    tifffile.imwrite(tmp_path / "planar.tiff", planar, planarconfig="separate", photometric="rgb",
                     extrasamples=["unassalpha"])
    np.testing.assert_array_equal(read_image(tmp_path / "planar.tiff"), np.moveaxis(planar, 0, -1))


# ---- what the fuzzing found ----------------------------------------------------------------------------------


def test_label_files_found_by_fuzzing(tmp_path, samples):
    """Each case was a traceback (or a multi-line message) before; each is now one line naming the file."""
    from polaraug.data.sources import source_frames
    from polaraug.testing.targets import target_named

    def case(target, file, edit):
        root = tmp_path / f"{target}-{len(list(tmp_path.iterdir()))}"
        import shutil

        shutil.copytree(samples.template(target_named(target)), root)
        path = next(root.glob(file))
        path.write_bytes(edit(path.read_bytes()))
        return root, path

    def det20(edit_frame):
        def edit(data):
            frames = json.loads(data)
            edit_frame(frames[0])
            return json.dumps(frames).encode()
        return edit

    cases = [
        ("bdd100k det_20", "labels/det_20/det_val.json", lambda d: b"[" * 100_000, "nested too deeply"),
        ("bdd100k det_20", "labels/det_20/det_val.json", det20(lambda f: f.update(size={"width": 1e400, "height": 5})),
         "'size' needs positive integer"),
        ("bdd100k det_20", "labels/det_20/det_val.json", det20(lambda f: f.update(size={"width": -4, "height": 5})),
         "'size' needs positive integer"),
        ("bdd100k det_20", "labels/det_20/det_val.json", det20(lambda f: f["labels"][0].update(attributes="x")),
         "'attributes' must be an object"),
        ("bdd100k det_20", "labels/det_20/det_val.json", det20(lambda f: f["attributes"].update(weather=[1])),
         "attribute 'weather' must be a string"),
        ("kitti", "training/label_2/000000.txt", lambda d: b"Car 0 inf" + d[d.index(b" ", 12):], "non-numeric field"),
        ("yolo", "labels/val/*.txt", lambda d: b"\xff" + d, "cannot read"),
        ("yolo", "data.yaml", lambda d: d + b"path: [1, 2]\n", "'path' must be a folder name"),
        ("yolo", "data.yaml", lambda d: d.replace(b"val: images/val", b"val: " + b"a" * 5000), "split folder or list"),
        ("bdd100k det_20", "labels/det_20/det_train.json", lambda d: json.dumps(json.loads(d) * 2).encode(),
         "is listed twice"),
        ("bdd100k det_20", "labels/det_20/det_val.json", det20(lambda f: f.update(name="a" * 5000 + ".jpg")),
         "cannot look for image"),  # was OSError: File name too long
    ]
    for target, file, edit, reason in cases:
        root, path = case(target, file, edit)
        fmt = target.split()[0]
        with pytest.raises(InputError) as e:
            list(source_frames(root, fmt))
        message = str(e.value)
        assert path.name in message and reason in message and "\n" not in message and len(message) < 1000, message


def test_a_bom_does_not_hide_the_first_label(tmp_path, samples):
    import shutil

    from polaraug.data.sources import source_frames
    from polaraug.testing.targets import target_named

    for target in ("kitti", "yolo"):
        root = tmp_path / target
        shutil.copytree(samples.template(target_named(target)), root)
        before = sum(len(f.boxes) for f in source_frames(root, target))
        for p in [*root.glob("training/label_2/*.txt"), *root.glob("labels/*/*.txt")]:
            p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
        assert sum(len(f.boxes) for f in source_frames(root, target)) == before


def test_settings_files_found_by_fuzzing(tmp_path):
    from polaraug.cameras import load_camera
    from polaraug.data.classmap import ClassMap
    from polaraug.data.polarset import read_polarset
    from polaraug.pipeline.spec import load_pipeline
    from polaraug.translate.config import load_config

    def write(name, text):
        (tmp_path / name).write_text(text)
        return tmp_path / name

    cases = [
        (ClassMap.load, write("map.yaml", "a: car\nb\nc: car\n"), "could not find expected ':' (line 3, column 1)"),
        (load_camera, write("cam.yaml", "name: x\x00"), "special characters are not allowed"),
        (load_camera, write("cam2.yaml", "name: x\nangles_deg: [0, 45, 90, 135]\ngains: [1, 1, 1, 1]\n"
                                         "extinction_ratios: [.inf, .inf, .inf, .inf]\ngain_map: gone.npy\n"),
         "gain map"),
        (load_pipeline, write("p.yaml", "stages:\n  a: {type: [synth]}\n"), "unknown stage type ['synth']"),
        (load_pipeline, write("p2.yaml", "stages:\n  a: {type: synth, after: [[b]]}\n"), "must list stage names"),
        (load_pipeline, write("p3.yaml", ""), "cannot read the pipeline file"),
        (load_config, write("t.yaml", "lr: 2e-4\n"), "'lr' must be a finite number, got '2e-4' (YAML reads"),
        (load_config, write("t2.yaml", "d_scales: 100000000000000000000\n"), "and 8 scales"),
        (load_config, write("t3.yaml", "preset: [cpu-small]\n"), "unknown 'preset'"),
        (load_config, write("t4.yaml", "batch: true\n"), "'batch' must be an integer, got True"),
    ]
    (tmp_path / "p3.yaml").write_bytes("name: \xe9".encode("latin-1"))
    for read, path, reason in cases:
        with pytest.raises(InputError) as e:
            result = read(path)
            if hasattr(result, "pixel_gains"):
                result.pixel_gains()
        message = str(e.value)
        assert path.name in message and reason in message and "\n" not in message, message
    manifest = {"schema": "polaraug-polarset/1", "channels": ["I0", "I45", "I90", "I135"], "bit_depth": 8,
                "splits": ["train"], "camera": {"name": "ideal", "angles_deg": [0, 45, 90, 135], "gains": [1] * 4,
                                                "extinction_ratios": [".inf"] * 4}}
    (tmp_path / "set").mkdir()
    (tmp_path / "set" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="manifest.json: field 'splits' must map split names"):
        read_polarset(tmp_path / "set")


def test_images_and_sets_found_by_fuzzing(tmp_path, samples):
    import shutil

    from polaraug.cameras import load_camera
    from polaraug.data.polarset import read_polarset, scan_polarimetric
    from polaraug.io.capture import read_capture
    from polaraug.testing.targets import target_named

    write_image(tmp_path / "line.png", np.full((1, 7), 900, np.uint16))  # a mosaic row: no 2x2 super-pixel
    with pytest.raises(ImageReadError, match="line.png: a raw DoFP mosaic needs at least one 2x2 super-pixel"):
        read_capture(tmp_path / "line.png", load_camera("sony_imx250mzr"))  # was NaN intensities

    angles = tmp_path / "angles"
    shutil.copytree(samples.template(target_named("angle files")), angles)
    (angles / "scene_0.png").unlink()  # the rest are an incomplete group, not three raw mosaics
    with pytest.raises(InputError, match="scene_0.png: per-angle files of 'scene' incomplete"):
        scan_polarimetric(angles)
    write_image(angles / "scene_0.png", np.zeros((3, 4), np.uint16))
    layout, (frame,) = scan_polarimetric(angles)
    with pytest.raises(ImageReadError, match="must be single-channel and alike, .* in scene_0.png"):
        frame.read()

    polar = tmp_path / "polar"
    shutil.copytree(samples.template(target_named("polarset")), polar)
    image = next(polar.glob("images/val/*.png"))
    write_image(image, np.zeros((5, 6, 4), np.uint16))  # its labels say 40x32
    ps = read_polarset(polar)
    with pytest.raises(ImageReadError, match=f"{image.name}: the image is 6x5, but labels/det_val.json says 40x32"):
        [ps.load(f) for f in ps.frames("val")]
