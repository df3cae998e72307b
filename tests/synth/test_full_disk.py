"""`polaraug synth` on a disk that fills up (or a folder that turns read-only) part-way, in one process and
in worker processes: one line naming the file (exit 2), no partial file or temporary, and a rerun that
completes the set byte for byte as an uninterrupted run writes it."""

import errno
import shutil

import pytest
from typer.testing import CliRunner

from polaraug.cli import app
from tests.io.faults import FailingDisk, assert_no_partial_file, snapshot

runner = CliRunner()


def _run(out, workers):
    return runner.invoke(app, ["synth", str(out), "-n", "8", "--size", "48x32", "--mode", "paired", "--masks",
                               "--workers", str(workers)])


@pytest.fixture(scope="module")
def complete(tmp_path_factory):
    """The folder every test writes, and the files of an uninterrupted run there."""
    out = tmp_path_factory.mktemp("s") / "set"
    res = _run(out, 1)
    assert res.exit_code == 0, res.output
    files = snapshot(out)
    shutil.rmtree(out)
    return out, files


# per frame 4 files (RGB, polarimetric, mask, record), after the settings stamp
@pytest.mark.parametrize(("code", "after", "workers", "says"), [
    (errno.ENOSPC, 6, 1, "No space left on device; free some space"),
    (errno.EACCES, 6, 1, "Permission denied"),
    (errno.ENOSPC, 33, 1, "No space left on device"),  # in the labels and manifest, every frame done
    (errno.ENOSPC, 3, 2, "No space left on device"),  # each worker process fails on its own; the pool stops
])
def test_synth_stops_with_one_line_leaves_nothing_partial_and_resumes(complete, monkeypatch, code, after, workers,
                                                                      says):
    out, files = complete
    shutil.rmtree(out, ignore_errors=True)
    FailingDisk(out, after, code).install(monkeypatch)
    res = _run(out, workers)
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    lines = [ln for ln in res.stderr.splitlines() if "error" in ln.lower() or "Traceback" in ln]
    assert len(lines) == 1 and lines[0].startswith(f"error: {out}/") and says in lines[0], res.stderr
    monkeypatch.undo()
    assert_no_partial_file(out, files)
    assert 0 < len(snapshot(out)) < len(files)
    res = _run(out, workers)
    assert res.exit_code == 0, res.output
    assert snapshot(out) == files
