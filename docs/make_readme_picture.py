"""The README's picture: one 1280x720 rendered frame, translated by a translator (the README's: the built-in).

    .venv/bin/python docs/make_readme_picture.py default 0 docs/figures/readme_translation.png

(argument 1: a checkpoint or ``default``; argument 2 picks one of three rendered frames.)
"""
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

from polaraug.io.images import read_image, write_image
from polaraug.synth.generate import SynthConfig, generate
from polaraug.translate.dataset import load_for_translation
from polaraug.translate.infer import rgb_to_tensor, translate_batch
from polaraug.translate.train import sample_grid

torch.set_num_threads(1)
out = Path(sys.argv[4]) if len(sys.argv) > 4 else Path("readme_picture_frames")
generate(SynthConfig(n=3, width=1280, height=720, seed=7, mode="rgb", weather="clear", night_fraction=0.0), out,
         workers=1, progress=False)
imgs = sorted((out / "images").rglob("*.jpg"))
model, cam = load_for_translation(sys.argv[1], "cpu")
rgb = read_image(imgs[int(sys.argv[2])])
x = rgb_to_tensor(rgb)
with torch.no_grad():
    y = translate_batch(model, x)
grid = sample_grid(x, y * 2 - 1, cam.matrix(np.float64))
print(grid.shape, grid.dtype)


tiles = np.split(grid, 7, axis=1)
labels = ["RGB (rendered, 1280x720)", "I0", "I45", "I90", "I135", "DoLP", "AoLP (hue), DoLP (saturation)"]
small = []
for t, lab in zip(tiles, labels, strict=True):
    t = cv2.resize(t, (640, 360), interpolation=cv2.INTER_AREA).copy()
    cv2.rectangle(t, (0, 0), (640, 30), (0, 0, 0), -1)
    cv2.putText(t, lab, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.65, (255, 255, 255), 1, cv2.LINE_AA)
    small.append(t)
blank = np.full_like(small[0], 255)
top = np.concatenate(small[:4], axis=1)
bottom = np.concatenate(small[4:] + [blank], axis=1)
write_image(Path(sys.argv[3]), np.concatenate([top, bottom], axis=0))
