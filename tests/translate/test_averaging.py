"""Test-time averaging: cycle spinning cancels patterns fixed to the pixel grid, the mirror keeps polarization
right, and `translate` records it and refuses to mix averaged and plain frames in one set."""

import json

import numpy as np
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.data.polarset import read_polarset
from polaraug.physics import camera_matrix, mirror_intensities
from polaraug.translate import ConstrainedCycleGAN, TranslatorConfig
from polaraug.translate.infer import Averaging, translate_batch
from tests.translate.tiny import tiny_source

runner = CliRunner()


class GridTranslator(nn.Module):
    """A fake translator: a 1x1 convolution (shift-equivariant) plus a pattern fixed to its input's pixel grid,
    ``rows[i % 4]`` on row i: what a stride-2 generator paints, made explicit."""

    def __init__(self, rows):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.register_buffer("a", torch.as_tensor(camera_matrix(), dtype=torch.float32))
        self.rows = torch.as_tensor(rows, dtype=torch.float32)

    def translate(self, x):
        h = x.shape[-2]
        return self.conv(x) + self.rows[torch.arange(h) % 4][:, None]


@pytest.mark.parametrize("rows, cancelled_by", [([0.2, -0.2, 0.2, -0.2], 2), ([0.2, 0.0, -0.2, 0.0], 4)])
def test_spin_cancels_a_grid_pattern_of_its_period_and_no_less(rows, cancelled_by):
    torch.manual_seed(0)
    model = GridTranslator(rows)
    x = torch.rand(2, 3, 24, 20) * 2 - 1
    clean = (model.conv(x) + model.rows.mean() + 1) / 2  # the equivariant part and the pattern's mean
    for spin in (1, 2, 4):
        err = (translate_batch(model, x, Averaging(spin)) - clean).abs().max().item()
        if spin >= cancelled_by:
            assert err < 1e-5, (spin, err)
        else:
            assert err > 0.02, (spin, err)  # the pattern (amplitude 0.1 in [0, 1] units) is still there


def test_mirror_averaging_swaps_i45_and_i135_of_the_mirrored_view():
    model = GridTranslator([0.0] * 4)
    with torch.no_grad():
        model.conv.weight.zero_()
        model.conv.bias.copy_(torch.tensor([0.2, 0.6, -0.4, -0.2]))  # constant intensities, I45 != I135
    y = translate_batch(model, torch.zeros(1, 3, 8, 8), Averaging(mirror=True))
    i0, i45, i90, i135 = ((model.conv.bias + 1) / 2).tolist()
    # the mirrored view's AoLP is -AoLP: its I45 and I135 trade places, I0 and I90 stay
    expected = torch.tensor([i0, (i45 + i135) / 2, i90, (i45 + i135) / 2])
    assert torch.allclose(y[0, :, 0, 0], expected, atol=1e-6)


def test_mirror_averaging_makes_a_real_generator_mirror_equivariant():
    torch.manual_seed(1)
    cfg = TranslatorConfig(mode="project", head="stokes", ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32)
    model = ConstrainedCycleGAN(cfg, camera_matrix()).translator.eval()
    x = torch.rand(1, 3, 32, 40) * 2 - 1
    for av, equivariant in ((Averaging(), False), (Averaging(spin=2, mirror=True), True)):
        mirrored = translate_batch(model, x.flip(-1), av)
        expected = mirror_intensities(translate_batch(model, x, av).flip(-1), model.a, dim=1)
        err = (mirrored - expected).abs().max().item()
        assert (err < 1e-5) == equivariant, (av, err)


def test_bad_spin_is_refused():
    with pytest.raises(ValueError, match="spin"):
        Averaging(spin=3)
    assert Averaging(4, True).passes == 32 and not Averaging().active
    assert Averaging(4, True).describe() == "spin 4 and mirror, 32 passes a frame"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    cfg = TranslatorConfig(mode="project", head="stokes", ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32)
    return tiny_source(tmp_path_factory.mktemp("avg"), cfg, seed=5)


def _translate(setup, out, *extra):
    return runner.invoke(app, ["translate", str(setup / "bdd"), str(out), "--checkpoint", str(setup / "c.pt"),
                               "--batch", "1", "--workers", "1", "--no-sensor", *extra])


def test_translate_records_averaging_and_refuses_to_resume_without_it(setup, tmp_path):
    out = tmp_path / "out"
    res = _translate(setup, out, "--spin", "2", "--mirror")
    assert res.exit_code == 0, res.output
    assert "averaging: spin 2 and mirror, 8 passes a frame" in res.output
    ps = read_polarset(out)
    assert ps.manifest["provenance"]["averaging"] == {"spin": 2, "mirror": True}
    plain = tmp_path / "plain"
    assert _translate(setup, plain).exit_code == 0
    assert "averaging" not in read_polarset(plain).manifest["provenance"]
    plain_set = read_polarset(plain)
    for averaged, frame in zip(ps.frames("train"), plain_set.frames("train"), strict=True):
        assert averaged.name == frame.name
        assert not np.array_equal(ps.load(averaged), plain_set.load(frame))  # the averaging is applied
    res = _translate(setup, out)  # a resume without the averaging would mix two kinds of frames
    assert res.exit_code != 0 and "averaging" in res.output
    settings = json.loads((out / ".translate" / "settings.json").read_text())
    assert settings["averaging"] == {"spin": 2, "mirror": True}


def test_translate_refuses_a_spin_it_cannot_average(setup, tmp_path):
    res = _translate(setup, tmp_path / "out", "--spin", "3")
    assert res.exit_code != 0 and "--spin" in res.output and not (tmp_path / "out").exists()
