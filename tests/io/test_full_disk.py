"""A full disk or a read-only folder under the atomic writes: the target is named, nothing partial is left,
the command line reports one line (exit 2), and an OSError of another kind stays a bug with its traceback."""

import errno
import json
import os
import resource
import signal
import subprocess
import sys

import numpy as np
import pytest
import typer

from polaraug.cli._errors import user_errors
from polaraug.io.atomic import atomic_path, copy_atomically, write_text
from polaraug.io.images import read_image, write_image
from polaraug.io.lock import LOCK_NAME, output_lock

from .faults import FailingDisk


def _noise(shape=(40, 50, 4)):
    return np.random.default_rng(0).integers(0, 65535, shape, dtype=np.uint16)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES])
@pytest.mark.parametrize("suffix", [".png", ".tiff", ".npy"])
def test_a_failed_write_names_its_target_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch, code,
                                                                                     suffix):
    path = tmp_path / "sub" / f"frame{suffix}"
    old = _noise()
    write_image(path, old)
    disk = FailingDisk(tmp_path, after=0, error=code).install(monkeypatch)
    with pytest.raises(OSError) as info:
        write_image(path, _noise()[::-1].copy())
    assert info.value.errno == code and info.value.filename == str(path)
    assert isinstance(info.value, PermissionError) == (code == errno.EACCES)
    assert disk.failures == 1
    monkeypatch.undo()
    assert np.array_equal(read_image(path), old)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["frame" + suffix, "sub"]


def test_the_error_names_the_target_not_the_temporary_and_keeps_other_files_names(tmp_path, monkeypatch):
    def full(*_a):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError) as info, atomic_path(tmp_path / "a.json") as tmp:
        tmp.write_text("x")
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp))
    assert info.value.filename == str(tmp_path / "a.json") and info.value.__cause__ is not None
    missing = tmp_path / "missing.bin"
    with pytest.raises(FileNotFoundError) as info:
        copy_atomically(missing, tmp_path / "copy.bin")  # the source is the news: it stays named
    assert info.value.filename == str(missing)
    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OSError) as info:
        write_text(tmp_path / "b.txt", "hello")
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / "b.txt")
    assert not list(tmp_path.iterdir())


def test_a_lock_that_cannot_be_written_is_not_left_behind(tmp_path, monkeypatch):
    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(json, "dump", full)
    with pytest.raises(OSError) as info, output_lock(tmp_path / "out", "polaraug synth"):
        pass
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / "out" / LOCK_NAME)
    assert not (tmp_path / "out" / LOCK_NAME).exists()


@pytest.mark.parametrize(("error", "line"), [
    (OSError(errno.ENOSPC, "No space left on device", "/out/a.png"),
     "error: /out/a.png: No space left on device; free some space and run the same command again"),
    (OSError(errno.EDQUOT, "Disk quota exceeded", "/out/a.png"),
     "error: /out/a.png: Disk quota exceeded; free some space and run the same command again"),
    (OSError(errno.EROFS, "Read-only file system", "/out/a.png"), "error: /out/a.png: Read-only file system"),
    (OSError(errno.EACCES, "Permission denied", "/out/a.png"), "error: /out/a.png: Permission denied"),
])
def test_storage_errors_are_one_line_naming_the_file_with_exit_2(capsys, error, line):
    with pytest.raises(typer.Exit) as info, user_errors():
        raise error
    assert info.value.exit_code == 2
    assert capsys.readouterr().err.strip() == line


@pytest.mark.parametrize("error", [OSError(errno.EBADF, "Bad file descriptor"), OSError("no errno"),
                                   OSError(errno.EINVAL, "Invalid argument", "/out/a.png")])
def test_other_os_errors_are_bugs_and_keep_their_traceback(error):
    with pytest.raises(OSError) as info, user_errors():
        raise error
    assert info.value is error and info.value.__traceback__ is not None


def _file_size_limit(limit):
    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write(2) then fails with EFBIG instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return limited


def test_a_real_write_error_of_the_kernel_stops_synth_with_one_line_and_it_resumes(tmp_path):
    """No patching: the kernel refuses writes past a file size limit (EFBIG, as a full disk refuses them with
    ENOSPC), inside OpenCV's encoder's output as Python writes it."""
    out = tmp_path / "set"
    argv = [sys.executable, "-m", "polaraug", "synth", str(out), "-n", "3", "--size", "64x48", "--mode", "polar",
            "--workers", "1"]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=300, preexec_fn=_file_size_limit(8000))
    assert res.returncode == 2, res.stderr[-3000:]
    last = res.stderr.strip().splitlines()[-1]
    assert "Traceback" not in res.stderr and last.startswith(f"error: {out / 'images'}")
    assert last.endswith(".png: File too large; write where files this large are allowed and run the same command "
                         "again")
    assert not [p for p in out.rglob(".*") if p.is_file()] and not list((out / "images").rglob("*.png"))
    res = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert len(list((out / "images").rglob("*.png"))) == 3


def _double(x):
    return 2 * x


def test_a_kernel_whose_disk_cache_cannot_be_saved_still_runs(monkeypatch):
    """numba saves a kernel's cache from inside its first call: a full disk there must not stop the run."""
    from polaraug.physics._jit import compiled

    kernel = compiled(_double)

    def full(*_a):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(kernel._cache, "_save_overload", full)
    assert kernel(21) == 42
