"""load_state: weights_only loading with one-line errors that name the file (and what it refused)."""

import pytest
import torch

from polaraug.errors import InputError
from polaraug.io.checkpoints import CheckpointError, load_state


class Payload:
    """Stands for any pickled object a checkpoint must not carry."""

    def __init__(self):
        self.x = 1


def test_a_pickled_object_is_refused_in_one_line_naming_it(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": "f", "obj": Payload()}, path)
    with pytest.raises(CheckpointError) as e:
        load_state(path, "f", "test")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"{path}: refuses to load")
    assert f"`{Payload.__module__}.Payload`" in msg and "only tensors and numbers" in msg
    assert "weights_only" not in msg and "trust" not in msg  # none of torch's advice to load it unsafely
    assert isinstance(e.value, InputError)


def test_a_pickled_builtin_is_named_too(tmp_path):
    import datetime

    path = tmp_path / "date.pt"
    torch.save({"format": "f", "created": datetime.date(2024, 1, 1)}, path)
    with pytest.raises(CheckpointError, match=r"date.pt: refuses to load: .*`datetime.date`") as e:
        load_state(path, "f", "test")
    assert "\n" not in str(e.value)


def test_tensors_load_and_other_files_fail_in_one_line(tmp_path):
    good = tmp_path / "good.pt"
    torch.save({"format": "f", "w": torch.ones(2), "step": 3}, good)
    assert load_state(good, "f", "test")["step"] == 3
    with pytest.raises(CheckpointError, match="good.pt: not a polaraug other checkpoint"):
        load_state(good, "other", "other")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint\n\nat all")
    with pytest.raises(CheckpointError, match="junk.pt: not a readable") as e:
        load_state(junk, "f", "test")
    assert "\n" not in str(e.value)
    with pytest.raises(CheckpointError, match="missing.pt: no such checkpoint"):
        load_state(tmp_path / "missing.pt", "f", "test")
