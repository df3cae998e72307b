"""The command-line reference in docs/cli.md is generated from the typer app; it must not go stale."""

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
