"""The package layout holds: one-way imports, no import cycles (TYPE_CHECKING and local imports too), small modules."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from paths import PACKAGE

#: Layers from the bottom up: a module may import its own layer's package and any lower layer, never a higher one.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_version", "models", "resources"),
    ("readers", "render", "checker", "flags"),
    ("audit", "prebill", "bench", "evaluate", "queries", "recheck", "spark"),
    ("cli", "server", "__main__", "__init__"),
)
MAX_MODULE_LINES = 600


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path, module: str, known: set[str]) -> Iterator[str]:
    """Every tbs_doccheck module ``path`` imports, wherever the import statement sits."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name in known and name != module:
                yield name


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {m: set(_imports(p, m, known)) for m, p in modules.items()}


def _layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"{module}: its package {top!r} is in no layer of this test; add it to LAYERS")


def test_every_module_is_at_most_600_lines() -> None:
    long = {m: n for m, p in _modules().items()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_imports_never_reach_a_higher_layer() -> None:
    upward = sorted(
        f"{m} -> {t}"
        for m, targets in _graph().items()
        for t in targets
        if _layer(t) > _layer(m) and not m.endswith("__init__") and m != "tbs_doccheck"
    )
    assert upward == []


def test_there_is_no_import_cycle_between_modules() -> None:
    graph = _graph()
    # A package's __init__ re-exports its modules: an edge into it stands for its contents, not a cycle.
    graph = {m: {t for t in ts if not _is_package(t)} for m, ts in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert cycles == []


def _is_package(module: str) -> bool:
    return (PACKAGE.parent / Path(*module.split(".")) / "__init__.py").is_file()


@pytest.mark.parametrize("vocabulary", ["tbs_targets", "tbs_signatures", "tbs_status"])
def test_each_span_group_name_is_written_once(vocabulary: str) -> None:
    hits = [p for p in PACKAGE.rglob("*.py") if f'"{vocabulary}"' in p.read_text(encoding="utf-8")]
    assert [p.name for p in hits] == ["schema.py"]
