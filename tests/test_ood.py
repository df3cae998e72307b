"""The out-of-distribution score: training, export from a translator, and validate --ood-model."""

import json

import pytest
import torch
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.errors import ConfigError
from polaraug.io.checkpoints import CheckpointError
from polaraug.ood import OODSettings, export_from_translator, load_ood, roc_auc, save_ood, train_ood
from polaraug.ood.model import build_ood
from polaraug.physics import camera_matrix
from polaraug.synth.generate import SynthConfig, generate
from polaraug.translate import ConstrainedCycleGAN, TranslatorConfig, save_checkpoint
from polaraug.translate.paired import PairedTranslator
from polaraug.validate.runner import open_set

TINY = dict(ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32, pool_size=2)


@pytest.fixture(scope="module")
def domains(tmp_path_factory):
    """'real': the shifted domain (12-bit DoFP capture, noise); 'generated': default-domain renders."""
    root = tmp_path_factory.mktemp("ood")
    generate(SynthConfig(n=12, width=64, height=64, seed=1, mode="polar", domain="shifted", val_fraction=0),
             root / "real", workers=1, progress=False)
    generate(SynthConfig(n=12, width=64, height=64, seed=2, mode="polar", val_fraction=0), root / "gen",
             workers=1, progress=False)
    return root


def _set(folder):
    opened = open_set(folder, None)
    return folder, opened.camera, opened.frames


def test_roc_auc_on_known_scores():
    assert roc_auc([0.1, 0.2], [0.3, 0.4]) == 1.0
    assert roc_auc([0.3, 0.4], [0.1, 0.2]) == 0.0
    assert roc_auc([0.5, 0.5], [0.5, 0.5]) == 0.5
    assert roc_auc([0.1, 0.4], [0.3, 0.5]) == 0.75  # 3 of 4 pairs ordered


@pytest.mark.parametrize(("kind", "raw", "expected"), [("bce", 0.0, 0.5), ("bce", 2.0, 1 - torch.sigmoid(
    torch.tensor(2.0)).item()), ("lsgan", 0.25, 0.75), ("lsgan", 1.5, 0.0), ("wgan-gp", 3.0, -3.0)])
def test_scores_turn_discriminator_outputs_into_unlikeness(kind, raw, expected):
    model = build_ood(kind, ndf=8, n_layers=2)
    last = model.d.model[-1]
    torch.nn.init.zeros_(last.weight)
    torch.nn.init.constant_(last.bias, raw)  # every patch outputs ``raw``
    assert model.score(torch.zeros(2, 4, 40, 40)).tolist() == pytest.approx([expected] * 2, abs=1e-6)
    with pytest.raises(ConfigError):
        build_ood("hinge")


def test_a_trained_model_separates_held_out_frames_and_round_trips(domains, tmp_path):
    settings = OODSettings(steps=600, crop=32, batch=8, ndf=8, n_layers=2, holdout=0.25)
    model, report = train_ood(_set(domains / "real"), [_set(domains / "gen")], settings,
                              progress=False)
    held = report["heldout"]
    assert held["real_frames"] == held["generated_frames"] == 3
    assert held["auc"] >= 8 / 9 and held["generated_mean"] > held["real_mean"], held
    save_ood(model, tmp_path / "m.pt")
    again = load_ood(tmp_path / "m.pt")
    x = torch.rand(1, 4, 48, 48) * 2 - 1
    torch.testing.assert_close(again.score(x), model.score(x))
    (tmp_path / "bad.pt").write_bytes(b"not a model")
    with pytest.raises(CheckpointError, match="bad.pt"):
        load_ood(tmp_path / "bad.pt")


def test_export_takes_a_cyclegans_polarimetric_discriminator(tmp_path):
    a = torch.as_tensor(camera_matrix(), dtype=torch.float32)
    gan = ConstrainedCycleGAN(TranslatorConfig(head="stokes", mode="none", **TINY), a)
    save_checkpoint(gan, tmp_path / "c.pt", step=0, epoch=0)
    model = export_from_translator(tmp_path / "c.pt")
    x = torch.rand(1, 4, 48, 48) * 2 - 1
    assert model.kind == "lsgan"
    torch.testing.assert_close(model.score(x), 1 - gan.d_b(x).clamp(0, 1).mean((1, 2, 3)))
    save_checkpoint(PairedTranslator(TranslatorConfig(head="stokes", **TINY), a), tmp_path / "p.pt", step=0, epoch=0)
    with pytest.raises(CheckpointError, match="paired"):
        export_from_translator(tmp_path / "p.pt")


def test_cli_trains_then_validate_scores_lists_pictures_and_gates(domains, tmp_path):
    runner = CliRunner()
    model = tmp_path / "ood.pt"
    res = runner.invoke(app, ["ood", "train", "--real", str(domains / "real"), "--generated",
                              str(domains / "gen"), "--out", str(model), "--steps", "20", "--crop", "32",
                              "--batch", "4"])
    assert res.exit_code == 0, res.output
    assert "held-out ROC AUC" in res.output and json.loads((tmp_path / "ood.pt.json").read_text())["heldout"]
    gen = domains / "gen"
    res = runner.invoke(app, ["validate", str(gen), "--ood-model", str(model), "--json", str(tmp_path / "r.json"),
                              "--plots", str(tmp_path / "plots"), "--workers", "1"])
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "r.json").read_text())
    scores = [f["ood"] for f in doc["frames"]]
    assert len(scores) == 12 and all(0 <= s <= 1 for s in scores)
    assert doc["aggregate"]["ood_mean"] == pytest.approx(sum(scores) / 12)
    assert "out-of-distribution" in res.output
    top = json.loads((tmp_path / "plots" / "ood.json").read_text())
    assert top[0]["ood"] == max(scores) and (tmp_path / "plots" / "ood_1.png").is_file()
    res = runner.invoke(app, ["validate", str(gen), "--ood-model", str(model), "--max-ood", "0", "--workers", "1"])
    assert res.exit_code == 1 and "max-ood" in res.output
    res = runner.invoke(app, ["validate", str(gen), "--max-ood", "0.5"])
    assert res.exit_code == 2 and "--ood-model" in res.output
    coarse = save_ood(build_ood("bce", ndf=8, n_layers=3, d_scales=3), tmp_path / "coarse.pt")  # needs 93 px
    res = runner.invoke(app, ["validate", str(gen), "--ood-model", str(coarse), "--max-ood", "0.5"])
    assert res.exit_code == 2 and "no frame could be scored" in res.output, res.output


def test_select_drops_the_highest_share_or_those_above_a_score():
    from polaraug.ood.filter import select

    scores = {"a": 0.9, "b": 0.1, "c": 0.5, "d": 0.5}
    assert select(scores, drop=0.25) == {"b", "c", "d"}
    assert select(scores, drop=0.5) == {"b", "d"}  # equal scores: the later name stays
    assert select(scores, max_ood=0.5) == {"b", "c", "d"}
    assert select(scores, drop=0.0) == set(scores)
    for bad in (dict(), dict(drop=0.1, max_ood=0.5), dict(drop=1.0)):
        with pytest.raises(ConfigError):
            select(scores, **bad)


def test_filter_writes_the_kept_frames_as_a_set_and_leaves_the_source(domains, tmp_path):
    from polaraug.data.polarset import read_polarset

    model = build_ood("bce", ndf=8, n_layers=2)
    src = domains / "gen"
    before = sorted(p.name for p in (src / "images" / "train").iterdir())
    res = CliRunner().invoke(app, ["ood", "filter", str(src), str(tmp_path / "kept"), "--model",
                                   str(save_ood(model, tmp_path / "m.pt")), "--drop", "0.25"])
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "kept" / "ood_scores.json").read_text())
    assert (doc["kept"], doc["dropped"]) == (9, 3)
    kept = read_polarset(tmp_path / "kept")
    frames = list(kept.frames("train"))
    assert kept.splits == {"train": 9} and len(frames) == 9
    dropped = {k.split("/")[1] for k, v in doc["scores"].items() if not v["kept"]}
    assert not dropped & {f.stem for f in frames}
    assert min(doc["scores"][f"train/{s}"]["ood"] for s in dropped) >= max(
        doc["scores"][f"train/{f.stem}"]["ood"] for f in frames)
    original = {f.stem: f for f in read_polarset(src).frames("train")}
    for f in frames:  # the same image and boxes as in the source
        assert f.image.samefile(original[f.stem].image) or f.image.read_bytes() == original[f.stem].image.read_bytes()
        assert [b.cls for b in f.boxes] == [b.cls for b in original[f.stem].boxes]
    assert sorted(p.name for p in (src / "images" / "train").iterdir()) == before
    res = CliRunner().invoke(app, ["ood", "filter", str(src), str(tmp_path / "kept"), "--model",
                                   str(tmp_path / "m.pt"), "--drop", "0.25"])
    assert res.exit_code == 2 and "not empty" in res.output
    assert not (tmp_path / ".kept.partial").exists()  # written beside OUT, renamed into place
    res = CliRunner().invoke(app, ["ood", "filter", str(src), str(tmp_path / "none"), "--model",
                                   str(tmp_path / "m.pt"), "--max-ood", "-1"])
    assert res.exit_code == 2 and "drops all 12 frames" in res.output and not (tmp_path / "none").exists()
