"""`polaraug translate` on a disk that fills up (or a folder that turns read-only) part-way: one line naming
the file (exit 2), no partial file or temporary, the writer threads stopped, and a rerun that completes the
set byte for byte as an uninterrupted run writes it."""

import errno
import shutil
import threading

import pytest
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.physics import camera_matrix
from polaraug.synth.generate import SynthConfig, generate
from polaraug.translate import ConstrainedCycleGAN, TranslatorConfig, save_checkpoint
from tests.io.faults import FailingDisk, assert_no_partial_file, snapshot

runner = CliRunner()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A tiny BDD100K set, a tiny checkpoint, and the uninterrupted translation's files."""
    root = tmp_path_factory.mktemp("t")
    generate(SynthConfig(n=6, width=60, height=44, seed=8, mode="rgb"), root / "bdd", workers=1, progress=False)
    cfg = TranslatorConfig(mode="relax", ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32)
    save_checkpoint(ConstrainedCycleGAN(cfg, camera_matrix()), root / "c.pt", step=0, epoch=0, camera_name="ideal")
    res = _run(root)
    assert res.exit_code == 0, res.output
    complete = snapshot(root / "out")
    shutil.rmtree(root / "out")
    return root, complete


def _run(root):
    return runner.invoke(app, ["translate", str(root / "bdd"), str(root / "out"), "--checkpoint", str(root / "c.pt"),
                               "--batch", "2", "--workers", "2"])


def _error_line(res, out):
    """The run's one error line, checked: exit 2, no traceback, the file it names is under ``out``."""
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    lines = [ln for ln in res.stderr.splitlines() if "error" in ln.lower() or "Traceback" in ln]
    assert len(lines) == 1 and lines[0].startswith(f"error: {out}/"), res.stderr
    return lines[0]


# after 4 commits: settings + 1.5 frames (image, record): in the writer threads; after 14: in the merge
@pytest.mark.parametrize(("code", "after", "says"), [
    (errno.ENOSPC, 4, "No space left on device; free some space"),
    (errno.EACCES, 4, "Permission denied"),
    (errno.ENOSPC, 14, "No space left on device"),
])
def test_a_full_or_read_only_disk_stops_with_one_line_and_the_rerun_completes_the_set(setup, monkeypatch, code,
                                                                                      after, says):
    root, complete = setup
    out = root / "out"
    shutil.rmtree(out, ignore_errors=True)
    threads = threading.active_count()
    disk = FailingDisk(out, after, code).install(monkeypatch)
    res = _run(root)
    assert says in _error_line(res, out) and disk.failures >= 1
    assert threading.active_count() == threads  # reader and writer threads stopped
    monkeypatch.undo()
    assert_no_partial_file(out, complete)
    written = snapshot(out)
    assert 0 < len(written) < len(complete)  # stopped part-way
    res = _run(root)
    assert res.exit_code == 0, res.output
    assert snapshot(out) == complete


def test_a_bug_in_a_writer_thread_keeps_its_traceback_and_cancels_the_queued_writes(setup, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from polaraug.io.images import read_image
    from polaraug.translate import dataset
    from polaraug.translate.dataset import _Job

    root, _ = setup
    out = root / "bug"
    encode, calls, stopping = _Job.encode, [], threading.Event()
    bug = ValueError("operands could not be broadcast together")

    class Pool(ThreadPoolExecutor):
        def shutdown(self, wait=True, *, cancel_futures=False):
            super().shutdown(wait=False, cancel_futures=cancel_futures)  # what is queued is cancelled (or not) first
            stopping.set()  # then the write in progress may finish
            super().shutdown(wait=wait)

    def broken(self, frame, y):
        calls.append(frame.name)
        if len(calls) == 1:
            raise bug
        stopping.wait(60)  # the next frames queue up behind this one until the run stops
        encode(self, frame, y)

    monkeypatch.setattr(dataset, "ThreadPoolExecutor", Pool)
    monkeypatch.setattr(_Job, "encode", broken)
    res = runner.invoke(app, ["translate", str(root / "bdd"), str(out), "--checkpoint", str(root / "c.pt"),
                              "--batch", "1", "--workers", "1"])
    assert res.exit_code == 1 and res.exception is bug and "error:" not in res.stderr
    assert len(calls) == 2  # the failed frame and the one being written; those queued behind were cancelled
    assert not [p for p in out.rglob(".*") if p.is_file()]  # no temporary, the lock released
    assert all(read_image(p).shape == (44, 60, 4) for p in (out / "images").rglob("*.png"))
