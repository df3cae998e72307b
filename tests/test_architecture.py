"""The floors of docs/architecture.md: a package may import its own floor and the floors below, never above
(function-level imports included)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "polaraug"
FLOORS = {  # docs/architecture.md, "Floors"
    "physics": 0, "errors": 0, "__version__": 0,
    "io": 1, "data": 1, "cameras": 1, "viz": 1,
    "synth": 2, "augment": 2, "nn": 2, "engine": 2, "inspect": 2, "colour": 2,
    "translate": 3, "validate": 3, "reconstruct": 3, "detect": 3, "ood": 3,
    "pipeline": 4,
    "cli": 5, "__main__": 5,
}


def _imports(path: Path):
    """(line, first package under polaraug) of every polaraug import in ``path``, relative ones resolved."""
    package = path.relative_to(ROOT.parent).with_suffix("").parts[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                parts = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module and node.module.split(".")[0] == "polaraug":
                parts = node.module.split(".")
            else:
                continue
            names = parts[1:2] or [a.name for a in node.names]  # "from polaraug import __version__"
            yield from ((node.lineno, n) for n in names)
        elif isinstance(node, ast.Import):
            yield from ((node.lineno, a.name.split(".")[1]) for a in node.names
                        if a.name.startswith("polaraug."))


def test_every_package_has_a_floor():
    packages = {p.name if p.is_dir() else p.stem for p in ROOT.iterdir()
                if (p.is_dir() and any(p.glob("*.py"))) or (p.suffix == ".py" and p.stem != "__init__")}
    assert packages <= set(FLOORS), f"give these a floor in docs/architecture.md and here: {packages - set(FLOORS)}"


def test_no_package_imports_a_floor_above_its_own():
    upward = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).parts
        own = rel[0] if len(rel) > 1 else path.stem
        if own == "__init__":
            continue
        for line, target in _imports(path):
            if target in FLOORS and FLOORS[target] > FLOORS[own]:
                upward.append(f"{path.relative_to(ROOT.parent)}:{line} ({own}, floor {FLOORS[own]}) imports "
                              f"{target} (floor {FLOORS[target]})")
    assert not upward, "\n".join(upward)
