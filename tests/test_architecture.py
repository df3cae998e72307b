"""The house rules of docs/architecture.md: a package imports its own floor and the floors below, never above
(function-level imports included); no import cycle between modules; no function over 60 lines."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "polaraug"
FLOORS = {  # docs/architecture.md, "Floors"
    "physics": 0, "errors": 0, "__version__": 0,
    "io": 1, "data": 1, "cameras": 1, "viz": 1,
    "synth": 2, "augment": 2, "nn": 2, "engine": 2, "inspect": 2, "colour": 2,
    "translate": 3, "validate": 3, "reconstruct": 3, "detect": 3, "ood": 3,
    "pipeline": 4,
    "cli": 5, "__main__": 5, "testing": 5,
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


def _module_graph() -> dict[str, set[str]]:
    """{module: the polaraug modules its module-level imports execute} (function-level imports run later,
    when every module is loaded, and cannot form an import cycle)."""
    mods = {}
    for p in ROOT.rglob("*.py"):
        parts = list(p.relative_to(ROOT.parent).with_suffix("").parts)
        mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        package = m.split(".") if p.name == "__init__.py" else m.split(".")[:-1]
        for node in ast.parse(p.read_text()).body:
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(package[: len(package) - node.level + 1]) if node.level else node.module
                name = base if not node.level or not node.module else f"{base}.{node.module}"
                subs = [f"{name}.{a.name}" for a in node.names]
                targets = subs if node.module is None else [name, *subs]  # "from . import x": x only
            else:
                continue
            graph[m] |= {t for t in targets if t in mods and t != m}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_no_import_cycles():
    assert _cycles(_module_graph()) == []


def test_the_cycle_check_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_function_is_over_60_lines():
    long = [f"{p.relative_to(ROOT.parent)}:{n.lineno} {n.name} ({n.end_lineno - n.lineno + 1} lines)"
            for p in ROOT.rglob("*.py") for n in ast.walk(ast.parse(p.read_text()))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > 60]
    assert long == [], "split these into named steps: " + "; ".join(long)
