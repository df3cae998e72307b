"""The detector's CPU trainings use the threads polaraug chooses, not the one ultralytics leaves on 2 cores."""

import os

import pytest
import torch

import polaraug
from polaraug.data.export import export_yolo
from polaraug.data.frame import Box, Frame
from polaraug.engine.device import cpu_threads
from polaraug.io.images import write_image
from polaraug.physics.quantize import quantize_admissible
from tests.augment.field import IDEAL, radial_field


@pytest.fixture
def restore_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def data_yaml(tmp_path_factory):
    os.environ.setdefault("YOLO_OFFLINE", "true")
    root = tmp_path_factory.mktemp("threads")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(root / "cfg"))
    img = quantize_admissible(radial_field(32), IDEAL, 8)
    frames = [Frame(f"f{i}.png", write_image(root / "src" / f"f{i}.png", img), [Box(4, 4, 20, 24, "car")], 32, 32)
              for i in range(2)]
    export_yolo({"train": frames, "val": frames}, root / "set", channels=4)
    return root / "set" / "data.yaml"


def _trainer(cls, data_yaml, tmp_path):
    return cls(overrides={"model": "yolov8n.yaml", "data": str(data_yaml), "device": "cpu", "epochs": 1,
                          "imgsz": 32, "project": str(tmp_path), "name": "t", "exist_ok": True, "plots": False})


@pytest.mark.usefixtures("restore_threads")
def test_trainer_keeps_the_thread_count_ultralytics_resets(data_yaml, tmp_path):
    from ultralytics.models.yolo.detect import DetectionTrainer
    from ultralytics.utils import NUM_THREADS

    from polaraug.augment.yolo import polar_trainer
    from polaraug.engine.device import with_cpu_threads

    wanted = NUM_THREADS + 2  # a count neither ultralytics nor torch would pick on their own
    torch.set_num_threads(wanted)
    _trainer(DetectionTrainer, data_yaml, tmp_path)
    assert torch.get_num_threads() == NUM_THREADS  # ultralytics' reset, which the wrapper must undo

    cls = with_cpu_threads(DetectionTrainer, wanted)
    assert issubclass(cls, DetectionTrainer) and cls.__name__ == "DetectionTrainer"
    _trainer(cls, data_yaml, tmp_path)
    assert torch.get_num_threads() == wanted

    torch.set_num_threads(1)
    _trainer(polar_trainer("intensities", threads=wanted), data_yaml, tmp_path)  # the polarimetric trainer too
    assert torch.get_num_threads() == wanted


def test_cpu_threads_reads_the_users_setting_else_the_cores(monkeypatch):
    monkeypatch.setattr(polaraug, "OMP_NUM_THREADS_AT_IMPORT", "3")
    assert cpu_threads() == 3
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    for unset in (None, "", "many"):
        monkeypatch.setattr(polaraug, "OMP_NUM_THREADS_AT_IMPORT", unset)
        assert cpu_threads() == cores


def test_detector_training_benchmark_quick(data_yaml, tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "detector_training.py"
    res = subprocess.run([sys.executable, str(script), str(data_yaml), "--quick", "--json", str(tmp_path / "d.json")],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    result = json.loads((tmp_path / "d.json").read_text())
    assert set(result["seconds"]) == {"ultralytics", "polaraug"} and result["speed_ratio"] > 0
    for who in ("ultralytics", "polaraug"):  # the same seed, threads and data twice: the same weights
        again = result["same_seed_again"][who]
        assert again["identical_tensors"] == again["tensors"] and again["max_abs"] == 0
    assert result["other_seed"]["max_abs"] > 0  # another seed moves them: the comparison can fail
