"""The documentation: docs/cli.md is generated from the typer app and must not go stale; the MkDocs site
builds strict."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGENERATE = "python -m typer polaraug.cli utils docs --name polaraug --output docs/cli.md"


def test_the_cli_reference_matches_the_commands(tmp_path):
    out = tmp_path / "cli.md"
    subprocess.run([sys.executable, "-m", "typer", "polaraug.cli", "utils", "docs", "--name", "polaraug",
                    "--output", str(out)], check=True, capture_output=True, cwd=ROOT)
    assert out.read_text() == (ROOT / "docs" / "cli.md").read_text(), f"docs/cli.md is stale: run `{REGENERATE}`"


def test_the_documentation_site_builds_strict(tmp_path):
    """Every nav page exists, every API reference resolves and no docstring breaks the site."""
    res = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                         cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert res.returncode == 0, res.stderr[-3000:]
    assert (tmp_path / "site" / "api" / "index.html").is_file()
    assert "camera_matrix" in (tmp_path / "site" / "api" / "index.html").read_text()
