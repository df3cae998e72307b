"""One writer per output: the lock file, its stale takeover, and the commands that take it."""

import json
import os
import socket
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.errors import InputError
from polaraug.io.lock import LOCK_NAME, lock_path, output_lock


def _hold(out, pid, host=None, command="polaraug translate"):
    out.mkdir(parents=True, exist_ok=True)
    (out / LOCK_NAME).write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(),
                                             "command": command, "since": 0}))


def _dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid  # reaped: no process has it (pids are not reused this fast)


def test_second_writer_is_refused_naming_the_holder(tmp_path):
    with output_lock(tmp_path / "out", "polaraug synth") as path:
        assert json.loads(path.read_text())["pid"] == os.getpid()
        with pytest.raises(InputError, match=rf"being written by pid {os.getpid()} .*polaraug synth"):
            with output_lock(tmp_path / "out", "polaraug translate"):
                pass
    assert not path.exists()  # released


def test_stale_lock_of_a_killed_process_is_taken_over(tmp_path):
    _hold(tmp_path / "out", _dead_pid())
    with output_lock(tmp_path / "out", "polaraug synth") as path:
        assert json.loads(path.read_text())["pid"] == os.getpid()


def test_lock_of_another_host_is_respected_and_shards_lock_apart(tmp_path):
    _hold(tmp_path / "out", 1, host="another-host")
    with pytest.raises(InputError, match="another-host"):
        with output_lock(tmp_path / "out", "x"):
            pass
    with output_lock(tmp_path / "s", "t", (0, 2)), output_lock(tmp_path / "s", "t", (1, 2)):
        assert lock_path(tmp_path / "s", (1, 2)).is_file() and lock_path(tmp_path / "s", (0, 2)).is_file()


def test_commands_refuse_an_output_another_process_writes(tmp_path):
    runner = CliRunner()
    _hold(tmp_path / "syn", os.getppid(), command="polaraug synth")  # our parent: alive
    res = runner.invoke(app, ["synth", str(tmp_path / "syn"), "-n", "1", "--size", "32x32"])
    assert res.exit_code == 2 and f"pid {os.getppid()}" in res.output
    assert not (tmp_path / "syn" / ".synth").exists()  # nothing written
    res = runner.invoke(app, ["synth", str(tmp_path / "ok"), "-n", "1", "--size", "32x32", "--mode", "rgb"])
    assert res.exit_code == 0, res.output
    _hold(tmp_path / "tr", os.getppid())
    res = runner.invoke(app, ["translate", str(tmp_path / "ok"), str(tmp_path / "tr"), "--no-space-check"])
    assert res.exit_code == 2 and "being written by" in res.output
