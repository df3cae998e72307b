"""Whole-frame context, resize upsampling, training on fresh renders and the built-in translator."""

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.io.images import read_image
from polaraug.nn import ResnetGenerator
from polaraug.nn.context import context_canvas, crop_box, frame_placement, sample_region
from polaraug.synth.generate import SynthConfig, generate
from polaraug.translate import TranslatorConfig, load_translator
from polaraug.translate.paired import PairedTranslator
from polaraug.translate.rendered import RenderedPairs, RenderSpec, render_pair

TINY = dict(ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32, pool_size=2, batch=2)


def test_canvas_keeps_the_frame_aspect_and_marks_its_pixels():
    rgb = torch.rand(2, 3, 60, 120) * 2 - 1
    canvas, box = context_canvas(rgb, 32)
    top, left, h, w = frame_placement(60, 120, 32)
    assert canvas.shape == (2, 6, 32, 32) and (h, w) == (16, 32) and (top, left) == (8, 0)
    assert canvas[:, 5].sum().item() == 2 * h * w  # the mask covers the frame, not the padding
    assert canvas[0, 3, top, left].item() == -1 and canvas[0, 3, top, left + w - 1].item() == 1
    assert torch.allclose(box, torch.tensor([-1.0, -0.5, 1.0, 0.5]))


def test_sampling_a_crops_box_from_the_canvas_gives_the_crops_own_pixels():
    # features = the canvas itself at full frame resolution: the box of a crop must pick that crop
    frame = torch.rand(1, 3, 48, 64) * 2 - 1
    canvas, fbox = context_canvas(frame, 64)  # 64 px canvas: the frame at scale 1
    y, x, c = 10, 20, 16
    box = crop_box(fbox, y, x, c, c, 48, 64)
    region = sample_region(canvas[:, :3], box[None], c, c)
    assert torch.allclose(region, frame[:, :, y:y + c, x:x + c], atol=1e-4)


def test_context_generator_starts_as_the_plain_generator_and_then_uses_the_frame():
    torch.manual_seed(0)
    g = ResnetGenerator(3, 4, 8, 1, tanh=False, context=32)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    plain = g.model(x)
    assert torch.equal(g(x), plain)  # gate 0: the context adds nothing at the start
    g.gate.data.fill_(1.0)
    a, b = context_canvas(torch.rand(2, 3, 64, 64), 32), context_canvas(torch.rand(2, 3, 64, 64), 32)
    boxes = crop_box(a[1], 0, 0, 32, 32, 64, 64).expand(2, 4)
    out_a, out_b = g(x, (a[0], boxes)), g(x, (b[0], boxes))
    assert not torch.allclose(out_a, out_b)  # another frame around the same crop changes the translation
    assert g(torch.rand(1, 3, 44, 60)).shape == (1, 4, 44, 60)  # whole frames of any size


def test_resize_upsampling_keeps_shapes():
    g = ResnetGenerator(3, 4, 8, 1, upsample="resize")
    assert g(torch.rand(1, 3, 36, 52)).shape == (1, 4, 36, 52)
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in g.modules())


def test_context_config_is_checked():
    with pytest.raises(Exception, match="context"):
        TranslatorConfig(context=10)
    with pytest.raises(Exception, match="upsample"):
        TranslatorConfig(upsample="pixelshuffle")
    assert TranslatorConfig(**TINY, context=32).architecture()["context"] == 32


def test_paired_step_with_context_trains_the_context_branch():
    cfg = TranslatorConfig(**TINY, context=32, upsample="resize")
    model = PairedTranslator(cfg, torch.eye(4, 3), seed=0)
    spec = RenderSpec(width=64, height=48, cache=3, refresh=1, workers=1)
    with RenderedPairs(spec, crop=32, batch=2, context=32) as data:
        rgb, polar, canvas, boxes = data.batch_at(0)
        before = model.g_ab.net.gate.detach().clone()
        for step in range(2):
            rgb, polar, canvas, boxes = data.batch_at(step)
            out = model.training_step(rgb, polar, context=(canvas, boxes))
    assert np.isfinite(out["g"]) and not torch.equal(model.g_ab.net.gate.detach(), before)


def test_rendered_pairs_match_synth_and_are_a_function_of_the_step(tmp_path):
    spec = RenderSpec(width=64, height=48, cache=3, refresh=2, domains=("default",), seed=5, workers=1)
    generate(SynthConfig(n=2, width=64, height=48, seed=5, mode="paired", val_fraction=0), tmp_path / "s",
             progress=False)
    rgb, polar = render_pair(spec, 1)
    synth_rgb = read_image(next((tmp_path / "s" / "rgb").rglob("*000001.jpg")))
    assert np.array_equal(rgb, synth_rgb)  # the same scene through the same camera and JPEG
    assert polar.dtype == np.uint16 and polar.shape == (48, 64, 4)
    assert spec.frames_due(0) == 3 and spec.frames_due(5) == 5
    with RenderedPairs(spec, crop=32, batch=2) as a:
        first = [a.batch_at(s) for s in range(6)]
        held = sorted(k for k, _, _ in a._frames.values())
    assert held == [2, 3, 4]  # the newest frame of each slot at step 5
    with RenderedPairs(spec, crop=32, batch=2) as b:  # a resume at step 4 rebuilds the same cache
        again = b.batch_at(4)
    assert all(torch.equal(u, v) for u, v in zip(first[4], again, strict=True))


def test_train_on_renders_then_translate_with_the_context_model(tmp_path):
    runner = CliRunner()
    run = tmp_path / "run"
    args = ["train", "--render", "--render-size", "64x48", "--render-cache", "4", "--render-every", "1",
            "--preset", "cpu-small", "--context", "32", "--upsample", "resize", "--steps", "2",
            "--out", str(run), "--keep-checkpoints", "--checkpoint-every", "1", "--sample-every", "100"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert json.loads((run / "config.json").read_text())["render"]["cache"] == 4
    assert (run / "checkpoints" / "step_0000001.pt").is_file() and (run / "checkpoints" / "step_0000002.pt").is_file()
    model, _ = load_translator(run / "checkpoints" / "last.pt")
    assert model.cfg.context == 32 and model.cfg.upsample == "resize"
    # a resume on other renders is refused, naming both
    res = runner.invoke(app, [*args[:3], "72x48", *args[4:]])
    assert res.exit_code == 2 and "renders" in res.output
    generate(SynthConfig(n=2, width=72, height=40, seed=1, mode="rgb"), tmp_path / "src", progress=False)
    res = runner.invoke(app, ["translate", str(tmp_path / "src"), str(tmp_path / "out"), "--checkpoint",
                              str(run / "checkpoints" / "last.pt"), "--no-space-check"])
    assert res.exit_code == 0, res.output
    assert len(list((tmp_path / "out" / "images").rglob("*.png"))) == 2


def test_the_built_in_translator_is_shipped_small_safe_and_used_by_default(tmp_path):
    from polaraug.io.checkpoints import load_state
    from polaraug.translate.builtin import builtin_translator, model_card

    path = builtin_translator()
    assert path.is_file() and path.stat().st_size <= 20 * 2**20
    load_state(path, "polaraug-translator/1", "translator")  # torch.load(weights_only=True) accepts it
    assert "Held-out scores" in model_card().read_text()
    model, _ = load_translator("default")
    assert model.cfg.head == "stokes"
    generate(SynthConfig(n=2, width=64, height=48, seed=3, mode="rgb"), tmp_path / "src", progress=False)
    res = CliRunner().invoke(app, ["translate", str(tmp_path / "src"), str(tmp_path / "out"), "--no-space-check"])
    assert res.exit_code == 0, res.output
    assert "translator: default (built-in)" in res.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["provenance"]["translator"] == "default (built-in)"
    res = CliRunner().invoke(app, ["validate", str(tmp_path / "out"), "--max-inadmissible", "0"])
    assert res.exit_code == 0, res.output
