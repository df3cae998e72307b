"""The ONNX Runtime backend against torch: choice, refusals, agreement of stored outputs, the export cache, and
the CLI naming the backend in its summary and the manifest. Tests that run ONNX Runtime skip when the 'onnx'
extra is not installed (``pip install 'polaraug[onnx]'``; the 'dev' extra includes it)."""

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.data.polarset import read_polarset
from polaraug.errors import InputError
from polaraug.physics import camera_matrix
from polaraug.translate import TranslatorConfig, backends
from polaraug.translate.backends import (
    TOLERANCE_8BIT,
    TOLERANCE_16BIT,
    TOLERANCE_MAX,
    TOLERANCE_QUANTILE,
    backend_name,
    onnxruntime_installed,
    resolve_backend,
    use_backend,
)
from polaraug.translate.dataset import quantize_output
from polaraug.translate.infer import translate_batch
from polaraug.translate.model import Translator
from tests.translate.tiny import tiny_source

needs_ort = pytest.mark.skipif(not onnxruntime_installed(),
                               reason="ONNX Runtime not installed (pip install 'polaraug[onnx]')")
runner = CliRunner()
A = camera_matrix()


def _tiny(seed=0, **cfg) -> Translator:
    torch.manual_seed(seed)
    return Translator(TranslatorConfig(ngf=4, n_blocks=1, **cfg), torch.as_tensor(A)).eval()


def test_auto_picks_onnxruntime_only_where_it_can_run(monkeypatch):
    plain, ctx = _tiny(), _tiny(context=16)
    monkeypatch.setattr(backends, "onnxruntime_installed", lambda: True)
    assert resolve_backend("auto", "cpu", plain) == "onnxruntime"
    assert resolve_backend("auto", "cuda", plain) == "torch"  # the GPU path stays torch
    assert resolve_backend("auto", "cpu", plain, compile_model=True) == "torch"
    assert resolve_backend("auto", "cpu", ctx) == "torch"  # a context branch does not export
    assert resolve_backend("auto", "cpu", plain, previous="torch") == "torch"  # a resume keeps its backend
    assert resolve_backend("torch", "cpu", plain) == "torch"
    with pytest.raises(InputError, match="context branch"):
        resolve_backend("onnxruntime", "cpu", ctx)
    with pytest.raises(InputError, match="CPU"):
        resolve_backend("onnxruntime", "cuda", plain)
    with pytest.raises(InputError, match="must be one of"):
        resolve_backend("tensorrt", "cpu", plain)
    monkeypatch.setattr(backends, "onnxruntime_installed", lambda: False)
    assert resolve_backend("auto", "cpu", plain) == "torch"
    assert resolve_backend("auto", "cpu", plain, previous="onnxruntime") == "torch"
    with pytest.raises(InputError, match=r"pip install 'polaraug\[onnx\]'") as e:
        resolve_backend("onnxruntime", "cpu", plain)
    assert "\n" not in str(e.value)


def _steps(a: np.ndarray, b: np.ndarray, bits: int, project: bool) -> np.ndarray:
    """|a - b| in steps of the stored ``bits``-bit form (intensities (H, W, 4))."""
    qa, qb = (quantize_output(y, A.astype(np.float64), project=project, bits=bits).astype(np.int64) for y in (a, b))
    return np.abs(qa - qb)


@needs_ort
@pytest.mark.parametrize("cfg", [dict(head="stokes"), dict(mode="relax"), dict(mode="project"),
                                 dict(head="stokes", upsample="resize"),
                                 dict(head="stokes", upsample="resize", downsample="blur"),
                                 dict(head="stokes", skips=2)],
                         ids=["stokes", "relax", "project", "resize", "resize-blur", "skips"])
def test_stored_outputs_agree_within_the_documented_tolerance(cfg):
    torch_model = _tiny(3, **cfg)
    ort_model = use_backend(_tiny(3, **cfg), "onnxruntime")
    assert (backend_name(torch_model), backend_name(ort_model)) == ("torch", "onnxruntime")
    g = torch.Generator().manual_seed(1)
    for shape in ((2, 3, 37, 50), (1, 3, 64, 96)):  # sizes other than the export's, padded, and a batch
        x = torch.rand(shape, generator=g) * 2 - 1
        ya, yb = translate_batch(torch_model, x), translate_batch(ort_model, x)
        assert ya.shape == yb.shape == (shape[0], 4, *shape[2:])
        assert (ya - yb).abs().max() <= TOLERANCE_MAX
        for a, b in zip(ya.permute(0, 2, 3, 1).numpy(), yb.permute(0, 2, 3, 1).numpy(), strict=True):
            project = cfg.get("mode") == "project"
            assert _steps(a, b, 8, project).max() <= TOLERANCE_8BIT
            assert np.quantile(_steps(a, b, 16, project), TOLERANCE_QUANTILE) <= TOLERANCE_16BIT


@needs_ort
def test_the_export_is_cached_and_a_bad_cache_file_is_exported_again(tmp_path, monkeypatch):
    calls = []
    export = backends.export_onnx
    monkeypatch.setattr(backends, "export_onnx", lambda net: calls.append(1) or export(net))
    x = torch.rand(1, 3, 16, 20) * 2 - 1
    first = translate_batch(use_backend(_tiny(), "onnxruntime", cache=tmp_path), x)
    (cached,) = tmp_path.glob("generator-*.onnx")
    second = translate_batch(use_backend(_tiny(), "onnxruntime", cache=tmp_path), x)
    assert len(calls) == 1 and torch.equal(first, second)
    use_backend(_tiny(seed=5), "onnxruntime", cache=tmp_path)  # other weights: another file
    assert len(calls) == 2 and len(list(tmp_path.glob("generator-*.onnx"))) == 2
    cached.write_bytes(b"not a model")
    third = translate_batch(use_backend(_tiny(), "onnxruntime", cache=tmp_path), x)
    assert len(calls) == 3 and torch.equal(first, third) and cached.stat().st_size > 100


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    cfg = TranslatorConfig(mode="relax", head="stokes", ngf=4, n_blocks=1, ndf=4, n_layers=2, crop=16)
    return tiny_source(tmp_path_factory.mktemp("b"), cfg, seed=2)


def _translate(source, out, *extra):
    return runner.invoke(app, ["translate", str(source / "bdd"), str(out), "--checkpoint", str(source / "c.pt"),
                               "--workers", "1", "--device", "cpu", "--bits", "16", *extra])


@needs_ort
def test_translate_names_its_backend_and_a_resume_keeps_it(source, tmp_path):
    for backend in ("torch", "onnxruntime"):
        res = _translate(source, tmp_path / backend, "--backend", backend)
        assert res.exit_code == 0, res.output
        assert f"(backend: {backend})" in res.output
        assert read_polarset(tmp_path / backend).manifest["provenance"]["backend"] == backend
    a, b = (read_polarset(tmp_path / k) for k in ("torch", "onnxruntime"))
    for fa, fb in zip(sorted(a.frames("train"), key=str), sorted(b.frames("train"), key=str), strict=True):
        assert np.abs(a.load(fa).astype(np.int64) - b.load(fb).astype(np.int64)).max() <= TOLERANCE_MAX * 65535
    res = _translate(source, tmp_path / "torch")  # auto resumes a torch set with torch
    assert res.exit_code == 0 and "(backend: torch)" in res.output and "3 already there" in res.output
    res = _translate(source, tmp_path / "torch", "--backend", "onnxruntime")  # never two backends in one set
    assert res.exit_code == 2 and "backend 'torch', now 'onnxruntime'" in res.output
    assert json.loads((tmp_path / "onnxruntime" / ".translate" / "settings.json").read_text())["backend"] == \
        "onnxruntime"
    assert list((tmp_path / "onnxruntime" / ".translate" / "onnx").glob("generator-*.onnx"))


def test_translate_refuses_onnxruntime_when_it_is_not_installed(source, tmp_path, monkeypatch):
    monkeypatch.setattr(backends, "onnxruntime_installed", lambda: False)
    res = _translate(source, tmp_path / "out", "--backend", "onnxruntime")
    assert res.exit_code == 2 and "pip install 'polaraug[onnx]'" in res.output
    assert not (tmp_path / "out").exists()  # refused before anything is written
    res = _translate(source, tmp_path / "auto")
    assert res.exit_code == 0 and "(backend: torch)" in res.output
