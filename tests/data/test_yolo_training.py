"""A YOLO export trains one epoch with ultralytics on CPU: tiny model from YAML, 64 px, offline."""

import os
import subprocess
import sys
import textwrap

import numpy as np

from polaraug.data.export import export_yolo
from polaraug.data.frame import Box, Frame
from polaraug.io.images import write_image

TRAIN = textwrap.dedent("""
    import sys
    from ultralytics import YOLO
    model = YOLO("yolov8n.yaml")
    model.train(data=sys.argv[1], epochs=1, imgsz=64, batch=4, device="cpu", workers=0, amp=False,
                plots=False, val=True, project=sys.argv[2], name="run", exist_ok=True, verbose=False,
                fliplr=0.0, hsv_h=0.0, hsv_s=0.0, hsv_v=0.0, mosaic=0.0)
    print("TRAINED", model.trainer.epoch + 1)
""")


def _frames(folder, n, rng):
    frames = []
    for i in range(n):
        img = (rng.uniform(0, 1, (64, 96, 4)) * 65535).astype(np.uint16)
        img[16:48, 20:60] = 60000  # a bright "car"
        path = write_image(folder / f"f{i}.png", img)
        frames.append(Frame(path.name, path, [Box(20, 16, 60, 48, "car")], 96, 64))
    return frames


def test_four_channel_yolo_export_trains_one_epoch(tmp_path, rng):
    frames = _frames(tmp_path / "src", 8, rng)
    export_yolo({"train": frames[:6], "val": frames[6:]}, tmp_path / "yolo", channels=4)
    env = {**os.environ, "YOLO_OFFLINE": "true", "YOLO_CONFIG_DIR": str(tmp_path / "cfg"),
           "MPLBACKEND": "Agg"}
    res = subprocess.run([sys.executable, "-c", TRAIN, str(tmp_path / "yolo" / "data.yaml"), str(tmp_path / "runs")],
                         capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "TRAINED 1" in res.stdout
    assert (tmp_path / "runs" / "run" / "weights" / "last.pt").is_file()
