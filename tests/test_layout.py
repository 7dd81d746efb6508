"""The architecture as the code has it: dependencies point one way (pipeline -> texture -> nerf), no import
cycles (lazy imports inside functions count; imports under ``if TYPE_CHECKING:`` do not, they never run), and
no top-level package grows past 15 modules beside its subpackages."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("nerf", "texture", "pipeline")
LAYER = {name: i for i, name in enumerate(PACKAGES)}  # a package may import only lower layers and itself


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.AST) -> set[str]:
    out: set[str] = set()

    def visit(node):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def import_graph() -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    mods = {_module(p): _imports(ast.parse(p.read_text(), str(p))) for p in files}
    return {m: {d for d in deps if d in mods and d != m} for m, deps in mods.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
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

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import x\ndef f():\n    import y\n")
    assert _imports(tree) == {"typing", "typing.TYPE_CHECKING", "y"}


def test_dependencies_point_down():
    upward = [(m, d) for m, deps in import_graph().items() for d in deps
              if LAYER[d.split(".")[0]] > LAYER[m.split(".")[0]]]
    assert upward == []


def test_packages_stay_small():
    for pkg in PACKAGES:
        modules = [p.name for p in (ROOT / pkg).glob("*.py") if p.name != "__init__.py"]
        assert len(modules) <= 15, (pkg, sorted(modules))
