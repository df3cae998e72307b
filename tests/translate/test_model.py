import numpy as np
import pytest
import torch
import yaml

from polaraug.physics import calibration_residual, camera_matrix, inadmissible_fraction, stokes_from_intensities
from polaraug.translate import (
    CheckpointError,
    ConstrainedCycleGAN,
    TranslatorConfig,
    load_checkpoint,
    load_config,
    save_checkpoint,
)

TINY = dict(ngf=8, n_blocks=2, ndf=8, n_layers=2, crop=64, pool_size=4, head="intensities")  # the modes' head
A_CAM = camera_matrix([1, 44, 91, 134], [1.02, 0.98, 1.0, 0.99], [100, 80, 120, 90])


def _batch(seed: int, n: int = 2):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, 64, 64, generator=g) * 2 - 1, torch.rand(n, 4, 64, 64, generator=g) * 2 - 1


@pytest.mark.parametrize("mode", ["none", "relax", "project", "proximal"])
def test_one_step_updates_all_four_networks_without_nan(mode):
    model = ConstrainedCycleGAN(TranslatorConfig(mode=mode, **TINY), A_CAM)
    before = {n: [p.detach().clone() for p in getattr(model, n).parameters()] for n in ("g_ab", "g_ba", "d_a", "d_b")}
    losses = model.training_step(*_batch(0))
    assert all(np.isfinite(v) for v in losses.values())
    assert ("calib" in losses) == (mode in ("relax", "proximal")) and ("proximal" in losses) == (mode == "proximal")
    for n, params in before.items():
        after = list(getattr(model, n).parameters())
        assert any(not torch.equal(p, q) for p, q in zip(params, after, strict=True)), n
        assert all(torch.isfinite(q).all() for q in after)


def test_project_mode_outputs_are_admissible_and_calibration_consistent():
    model = ConstrainedCycleGAN(TranslatorConfig(mode="project", **TINY), A_CAM)
    for _ in range(2):
        model.training_step(*_batch(1))
    y = ((model.translate(_batch(2)[0]) + 1) / 2).double()
    s = stokes_from_intensities(y, torch.as_tensor(A_CAM, dtype=torch.float64))
    assert inadmissible_fraction(s, tol=1e-6) == 0.0
    assert calibration_residual(y, torch.as_tensor(A_CAM, dtype=torch.float64)).abs().max() < 1e-5
    # Without projection, the same untrained outputs are neither.
    free = ConstrainedCycleGAN(TranslatorConfig(mode="none", **TINY), A_CAM)
    y_free = ((free.translate(_batch(2)[0]) + 1) / 2).double()
    assert calibration_residual(y_free, torch.as_tensor(A_CAM, dtype=torch.float64)).abs().max() > 1e-3


def test_resume_continues_with_identical_state(tmp_path):
    cfg = TranslatorConfig(mode="relax", **TINY)
    model = ConstrainedCycleGAN(cfg, A_CAM, seed=3)
    for k in range(3):
        model.training_step(*_batch(10 + k))
    save_checkpoint(model, tmp_path / "ckpt.pt", step=3, epoch=0)
    expected = [model.training_step(*_batch(20 + k)) for k in range(2)]
    resumed, state = load_checkpoint(tmp_path / "ckpt.pt", cfg, resume=True)
    assert state["step"] == 3
    got = [resumed.training_step(*_batch(20 + k)) for k in range(2)]
    assert got == expected


def test_checkpoints_are_safe_and_self_describing(tmp_path):
    model = ConstrainedCycleGAN(TranslatorConfig(mode="project", **TINY), A_CAM)
    path = save_checkpoint(model, tmp_path / "c.pt", step=0, epoch=0, camera_name="cam")
    state = torch.load(path, weights_only=True)  # no pickled code
    assert state["config"]["mode"] == "project" and state["camera"] == "cam"
    loaded, _ = load_checkpoint(path)  # needs nothing else
    x = _batch(4)[0]
    torch.testing.assert_close(loaded.translate(x), model.translate(x))
    other = TranslatorConfig(mode="project", **{**TINY, "ngf": 16})
    with pytest.raises(CheckpointError, match=r"c.pt: trained with architecture .*'ngf': 8"):
        load_checkpoint(path, other)
    with pytest.raises(CheckpointError, match="constraint mode 'project'"):
        load_checkpoint(path, TranslatorConfig(mode="relax", **TINY))
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="junk.pt: not a readable"):
        load_checkpoint(tmp_path / "junk.pt")


def test_config_files_name_bad_keys(tmp_path):
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({"preset": "cpu-small", "mode": "proximal", "ngf": 12}))
    cfg = load_config(tmp_path / "c.yaml")
    assert cfg.ngf == 12 and cfg.n_blocks == 3 and cfg.mode == "proximal"
    for bad, msg in (({"ngff": 3}, "unknown key 'ngff'"), ({"mode": "x"}, "'mode'"), ({"crop": 30}, "'crop'"),
                     ({"preset": "huge"}, "'preset'")):
        (tmp_path / "b.yaml").write_text(yaml.safe_dump(bad))
        with pytest.raises(ValueError, match=msg):
            load_config(tmp_path / "b.yaml")
