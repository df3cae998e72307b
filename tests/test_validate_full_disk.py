"""`polaraug validate --fix` on a disk that fills up (or a folder that turns read-only) part-way, in place and
into a copy, for 4-channel and per-angle frames: one line naming the file (exit 2), every file either as it
was or as the uninterrupted repair writes it (never part-written, no temporary left), and a rerun that ends
byte for byte where an uninterrupted repair ends."""

import errno
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.io.images import read_image, write_image
from polaraug.synth.generate import SynthConfig, generate
from tests.io.faults import FailingDisk, snapshot

runner = CliRunner()


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """{layout: a set with inadmissible pixels planted in four frames}."""
    root = tmp_path_factory.mktemp("v")
    generate(SynthConfig(n=6, width=40, height=32, seed=3, mode="polar"), root / "synth", workers=1, progress=False)
    sets = {"polaraug": root / "polaraug", "angle-folders": root / "angles"}
    shutil.copytree(root / "synth", sets["polaraug"])
    for k, p in enumerate(sorted((root / "synth" / "images").rglob("*.png"))):
        img = read_image(p)
        if k < 4:
            img[4:7, 4:7] = [65535, 65535, 0, 0]  # DoLP √2
            write_image(sets["polaraug"] / p.relative_to(root / "synth"), img)
        for c, a in enumerate(("0", "45", "90", "135")):
            write_image(sets["angle-folders"] / a / p.name, np.ascontiguousarray(img[..., c]))
    return sets


def _fix(src, out=None):
    extra = ["--calibration", "ideal"] if (src / "0").is_dir() else []
    return runner.invoke(app, ["validate", str(src), "--fix", "--workers", "1", *extra,
                               *(["--out", str(out)] if out else [])])


def _as_written(before, after, now):
    """Every file of ``now`` is the file as it was (``before``) or as the uninterrupted repair wrote it."""
    strays = sorted(set(now) - set(before) - set(after))
    assert not strays, f"files neither run has: {strays}"
    mixed = sorted(k for k, v in now.items() if v not in (before.get(k), after.get(k)))
    assert not mixed, f"part-written files: {mixed}"


# 4-channel: one commit a frame; per-angle: four new files, a journal, four renames a frame
@pytest.mark.parametrize(("layout", "code", "after", "copy"), [
    ("polaraug", errno.ENOSPC, 2, False),
    ("polaraug", errno.EACCES, 2, False),
    ("polaraug", errno.ENOSPC, 14, True),  # the copy's files, then the repairs
    ("angle-folders", errno.ENOSPC, 11, False),  # the second frame's third angle: the first one is done
    ("angle-folders", errno.EACCES, 2, True),
])
def test_fix_stops_with_one_line_leaves_every_file_whole_and_resumes(planted, tmp_path, monkeypatch, layout, code,
                                                                     after, copy):
    work = tmp_path / "set"
    out = tmp_path / "fixed" if copy else None
    shutil.copytree(planted[layout], work)
    res = _fix(work, out)
    assert res.exit_code == 0 and "fixed 4 frames" in res.output, res.output
    before, fixed = snapshot(planted[layout]), snapshot(out or work)
    shutil.rmtree(work)
    shutil.rmtree(out or work, ignore_errors=True)
    shutil.copytree(planted[layout], work)
    FailingDisk(tmp_path, after, code).install(monkeypatch)
    res = _fix(work, out)
    monkeypatch.undo()
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.stderr.splitlines() if "error" in ln.lower() or "Traceback" in ln]
    assert len(lines) == 1 and lines[0].startswith(f"error: {out or work}/"), res.stderr
    _as_written(before, fixed, snapshot(out or work))
    assert snapshot(out or work) not in (before, fixed)  # stopped part-way
    res = _fix(work, out)
    assert res.exit_code == 0, res.output
    assert snapshot(out or work) == fixed
    if copy:
        assert snapshot(work) == before  # the source is never written
