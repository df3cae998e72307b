"""`polaraug export-yolo` on a disk that fills up (or a folder that turns read-only) part-way: one line naming
the file (exit 2), no partial file or temporary, and a rerun that writes what an uninterrupted export writes."""

import errno
import shutil

import pytest
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.synth.generate import SynthConfig, generate
from tests.io.faults import FailingDisk, assert_no_partial_file, snapshot

runner = CliRunner()


@pytest.fixture(scope="module")
def polar_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("e") / "set"
    generate(SynthConfig(n=5, width=40, height=32, seed=2, mode="polar"), root, workers=1, progress=False)
    return root


# per frame an image and a label file, then data.yaml
@pytest.mark.parametrize(("encoding", "code", "after"), [
    ("intensities", errno.ENOSPC, 3),
    ("hsv", errno.EACCES, 3),
    ("stokes", errno.ENOSPC, 10),  # data.yaml, the last file
])
def test_export_stops_with_one_line_leaves_nothing_partial_and_reruns_to_the_same_files(polar_set, tmp_path,
                                                                                         monkeypatch, encoding, code,
                                                                                         after):
    out = tmp_path / "yolo"
    argv = ["export-yolo", str(polar_set), str(out), "--encoding", encoding]
    assert runner.invoke(app, argv).exit_code == 0
    complete = snapshot(out)
    shutil.rmtree(out)
    FailingDisk(out, after, code).install(monkeypatch)
    res = runner.invoke(app, argv)
    monkeypatch.undo()
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.stderr.splitlines() if "error" in ln.lower() or "Traceback" in ln]
    assert len(lines) == 1 and lines[0].startswith(f"error: {out}/"), res.stderr
    assert_no_partial_file(out, complete)
    assert 0 < len(snapshot(out)) < len(complete)
    assert runner.invoke(app, argv).exit_code == 0
    assert snapshot(out) == complete
