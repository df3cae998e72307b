"""notebooks/quickstart.ipynb executes top to bottom (tiny sizes), so it never rots."""

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parent.parent / "notebooks" / "quickstart.ipynb"


def test_quickstart_notebook_executes(tmp_path, monkeypatch):
    monkeypatch.setenv("POLARAUG_QUICKSTART_TINY", "1")
    monkeypatch.setenv("POLARAUG_QUICKSTART_OUT", str(tmp_path / "out"))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend shows the figures
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert (tmp_path / "out" / "translated" / "manifest.json").is_file()
    assert any(o.output_type == "display_data" and "image/png" in o.get("data", {})
               for c in nb.cells for o in c.get("outputs", []))


def test_notebook_matches_its_generator():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_quickstart", NOTEBOOK.with_name("make_quickstart.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    saved = nbformat.read(NOTEBOOK, as_version=4)
    assert [c.source for c in saved.cells] == [c.source for c in mod.build().cells], \
        "run: .venv/bin/python notebooks/make_quickstart.py"
    assert os.path.getsize(NOTEBOOK) < 200_000  # committed without outputs
