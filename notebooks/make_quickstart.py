"""Writes notebooks/quickstart.ipynb (cells below). Edit here, then: .venv/bin/python notebooks/make_quickstart.py"""

from pathlib import Path

import nbformat

CELLS = [
    ("md", """# polaraug quickstart

From labelled RGB frames to physically valid polarimetric frames, on data polaraug generates itself:

1. generate paired road scenes (RGB and I0/I45/I90/I135 of the same scenes),
2. look at RGB vs the four polarizer images, DoLP and AoLP,
3. train a small constrained CycleGAN (CPU, a couple of minutes),
4. translate RGB frames into polarimetric ones,
5. validate them: admissibility, calibration residual, DoLP/AoLP histograms.

Everything runs on CPU; on a GPU the same code uses CUDA."""),
    ("code", """import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

# The test suite runs this notebook with POLARAUG_QUICKSTART_TINY=1 (tiny sizes, so it never rots).
TINY = os.environ.get("POLARAUG_QUICKSTART_TINY") == "1"
OUT = Path(os.environ.get("POLARAUG_QUICKSTART_OUT", "quickstart_out"))
FRAMES, WIDTH, HEIGHT, STEPS = (8, 64, 48, 4) if TINY else (120, 128, 96, 600)"""),
    ("md", "## 1. Generate paired scenes"),
    ("code", """from polaraug.synth.generate import SynthConfig, generate

generate(SynthConfig(n=FRAMES, width=WIDTH, height=HEIGHT, mode="paired", seed=0), OUT / "data", workers=1)
sorted(p.name for p in (OUT / "data").iterdir())"""),
    ("md", "## 2. RGB vs I0, I45, I90, I135, DoLP and AoLP"),
    ("code", """from polaraug.data.polarset import read_polarset
from polaraug.io.images import read_image
from polaraug.physics import analyze
from polaraug.viz.colorize import aolp_dolp_rgb

ps = read_polarset(OUT / "data" / "polar")
frame = next(ps.frames("train"))
y = ps.load(frame)                                   # (H, W, 4) float intensities in [0, 1]
rgb = read_image(next((OUT / "data" / "rgb").rglob(frame.name.replace(".png", ".jpg"))))
m = analyze(y, ps.camera.matrix())                   # Stokes, DoLP, AoLP, admissibility

fig, axes = plt.subplots(1, 7, figsize=(18, 2.6))
tiles = [(rgb, "RGB")] + [(y[..., i], f"I{a}") for i, a in enumerate((0, 45, 90, 135))]
tiles += [(m.dolp, "DoLP"), (aolp_dolp_rgb(m.aolp, np.clip(m.dolp, 0, 1)), "AoLP (hue), DoLP (sat.)")]
for ax, (img, title) in zip(axes, tiles, strict=True):
    ax.imshow(img, cmap="gray", vmin=0, vmax=1) if img.ndim == 2 else ax.imshow(img)
    ax.set_title(title)
    ax.axis("off")
print(f"mean DoLP {m.dolp.mean():.3f}, inadmissible pixels {100 * m.inadmissible_fraction:.2f} %")"""),
    ("md", """## 3. Train a small translator

`project` mode passes every output through the projection onto the admissible cone, so translations are
physically valid by construction. `STEPS` is CPU-sized; real runs use the `reference` preset on a GPU."""),
    ("code", """import dataclasses

from polaraug.translate.config import config_from_dict
from polaraug.translate.data import UnpairedCrops
from polaraug.translate.train import train

cfg = dataclasses.replace(config_from_dict({"preset": "cpu-small"}), mode="project")
if TINY:
    cfg = dataclasses.replace(cfg, crop=32)
data = UnpairedCrops.from_folders(OUT / "data" / "rgb", OUT / "data" / "polar", ps.camera, crop=cfg.crop,
                                  batch=cfg.batch)
result = train(data, OUT / "run", cfg, ps.camera, max_steps=STEPS, sample_every=max(STEPS, 1))
result"""),
    ("md", "## 4. Translate RGB frames"),
    ("code", """from polaraug.translate.dataset import load_for_translation, translate_dataset
from polaraug.translate.infer import translate_image

model, camera = load_for_translation(result.checkpoint)
summary = translate_dataset(OUT / "data" / "rgb", OUT / "translated", model, result.checkpoint, camera, workers=1)
print(summary)

fake = translate_image(model, rgb)
mf = analyze(fake, camera.matrix())
fig, axes = plt.subplots(1, 3, figsize=(9, 2.6))
for ax, (img, title) in zip(axes, [(rgb, "RGB"), (fake[..., 0], "translated I0"),
                                   (aolp_dolp_rgb(mf.aolp, np.clip(mf.dolp, 0, 1)), "translated AoLP/DoLP")],
                              strict=True):
    ax.imshow(img, cmap="gray", vmin=0, vmax=1) if img.ndim == 2 else ax.imshow(img)
    ax.set_title(title)
    ax.axis("off")"""),
    ("md", "## 5. Validate the translated set"),
    ("code", """from polaraug.validate import AOLP_BINS, DOLP_BINS, validate

report = validate(OUT / "translated", workers=1)
print("\\n".join(report.lines()))
agg = report.aggregate()
assert agg["inadmissible_fraction"] == 0  # project mode: admissible by construction

fig, axes = plt.subplots(1, 2, figsize=(10, 3))
axes[0].bar(DOLP_BINS[:-1], agg["dolp_hist"], width=np.diff(DOLP_BINS), align="edge")
axes[0].set_xlabel("DoLP")
axes[1].bar(np.degrees(AOLP_BINS[:-1]), agg["aolp_hist"], width=10, align="edge")
axes[1].set_xlabel("AoLP (°), DoLP-weighted")"""),
    ("md", """Next: `polaraug eval-detection` trains YOLO with and without the translated data, and
`polaraug demo` runs the whole pipeline in one command (see the README)."""),
]


def build() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
                for kind, src in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


if __name__ == "__main__":
    path = Path(__file__).with_name("quickstart.ipynb")
    nbformat.write(build(), path)
    print(f"wrote {path}")
