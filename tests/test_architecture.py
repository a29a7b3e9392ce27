"""The package's shape: imports flow one way, modules stay small, every layer knows its place.

Every import is counted, including the ones inside functions (a deferred import hides a loop
from Python, not from a reader).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "dandindex"


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in SRC.rglob("*.py")}


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """The dandindex modules `path` imports (resolving `from pkg import module`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            # `from pkg import module` imports that module (its package's __init__ runs
            # first, as for any submodule); `from module import name` imports the module
            subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known]
            targets = subs if len(subs) == len(node.names) else [*subs, base]
        else:
            continue
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name and t.startswith("dandindex"):
                out.add(t)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(path, name, known) for name, path in mods.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
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

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def package_of(module: str) -> str:
    """The unit of layering: a subpackage (dandindex.nwb) or a top-level module."""
    parts = module.split(".")
    return ".".join(parts[:2])


def test_no_import_cycle_between_modules():
    assert cycles(graph()) == []


def test_no_import_cycle_between_packages():
    g = graph()
    pg: dict[str, set[str]] = {}
    for m, deps in g.items():
        src = package_of(m)
        if src == "dandindex":  # the package's own __init__ re-exports lazily
            continue
        pg.setdefault(src, set()).update(
            package_of(d) for d in deps if package_of(d) not in (src, "dandindex")
        )
    assert cycles(pg) == []


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


# Lower layers never import higher ones (the README's module map, docs/ARCHITECTURE.md).
LAYERS = [
    {
        "dandindex._version",
        "dandindex.errors",
        "dandindex.fsutil",
        "dandindex.schemas",
        "dandindex.rowfit",
        "dandindex.instances",
        "dandindex.display",
    },
    {"dandindex.vocab", "dandindex.remote", "dandindex.sandbox"},
    {
        "dandindex.nwb",
        "dandindex.formats",
        "dandindex.store",
        "dandindex.queries",
        "dandindex.facet",
        "dandindex.rowread",
    },
    {"dandindex.registry", "dandindex.inside", "dandindex.formatfacets"},
    {"dandindex.query", "dandindex.postings"},
    {"dandindex.byasset", "dandindex.facets", "dandindex.facetmaps", "dandindex.published"},
    {"dandindex.crawl", "dandindex.search", "dandindex.plot"},
    {"dandindex.handles", "dandindex.tree"},
    {"dandindex.results", "dandindex.cohort"},
    {"dandindex.index"},
    {"dandindex.ui"},
    {"dandindex.testing", "dandindex.demo", "dandindex.cli", "dandindex.__main__"},
]


def layer(package: str) -> int:
    for i, members in enumerate(LAYERS):
        if package in members:
            return i
    raise AssertionError(f"{package} is in no layer: add it to LAYERS and ARCHITECTURE.md")


@pytest.mark.parametrize("module", sorted(m for m in modules() if m != "dandindex"))
def test_imports_go_down_the_layers(module):
    mine = layer(package_of(module))
    up = [d for d in graph()[module] if d != "dandindex" and layer(package_of(d)) > mine]
    assert up == [], f"{module} imports from a higher layer: {up}"


def test_no_module_over_500_lines_outside_testing():
    big = {
        name: n
        for name, path in modules().items()
        if not name.startswith("dandindex.testing")
        and (n := len(path.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert big == {}
