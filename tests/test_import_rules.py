"""How product code (services/, runtime/, gateway/) may import: no cycle, and imports that
point one way across the boundaries (a service never imports another, the shared runtime
imports neither, the gateway touches no service code and no SQL, a domain module imports no
transport or storage). Every import counts: one inside a function or under TYPE_CHECKING still
ties two modules together, so moving an import into a function to dodge a rule fails here too."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("services", "runtime", "gateway")
SERVICES = ("agent", "ops", "export", "audit")
STORAGE_AND_TRANSPORT = ("grpc", "sqlalchemy", "psycopg", "tradeops")

Graph = dict[str, set[str]]


def modules() -> dict[str, Path]:
    found = {}
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported_names(name: str, path: Path) -> Iterator[str]:
    """Every dotted name the module imports, `from x import y` giving x.y (a module or not)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            yield from (f"{base}.{alias.name}" for alias in node.names)


def graph() -> Graph:
    known = modules()

    def owner(dotted: str) -> str | None:
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    edges: Graph = {}
    for name, path in known.items():
        targets = {owner(imported) for imported in imported_names(name, path)}
        edges[name] = {t for t in targets if t is not None and t != name}
    return edges


def cycles(edges: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = stack[stack.index(node) :]
                    del stack[stack.index(node) :]
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                work.append((child, iter(sorted(edges[child]))))
            elif child in stack:
                low[node] = min(low[node], index[child])
    return found


def test_the_cycle_finder_finds_a_cycle_of_three_and_nothing_in_a_chain() -> None:
    ring = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    chain = {"a": {"b"}, "b": {"c"}, "c": set()}

    assert (cycles(ring), cycles(chain)) == ([["a", "b", "c"]], [])


def test_the_graph_sees_imports_inside_functions(tmp_path: Path) -> None:
    path = tmp_path / "mod.py"
    path.write_text("def f():\n    from services.ops import timers\n")

    assert list(imported_names("services.ops.mod", path)) == ["services.ops.timers"]


def test_product_code_has_no_import_cycle() -> None:
    assert cycles(graph()) == []


def crossings() -> Iterator[str]:
    """Every import that points the wrong way across a boundary, as "module -> imported"."""
    for name, path in modules().items():
        for imported in imported_names(name, path):
            if wrong_way(name.split("."), imported.split(".")):
                yield f"{name} -> {imported}"


def wrong_way(importer: list[str], imported: list[str]) -> bool:
    service = importer[0] == "services" and len(importer) > 1 and importer[1] in SERVICES
    if service and imported[0] == "services" and len(imported) > 1:
        return imported[1] != importer[1] and imported[1] in SERVICES
    if importer[0] == "runtime":
        return imported[0] in ("services", "gateway")
    if importer[0] == "gateway":
        return imported[0] in ("services", "sqlalchemy", "psycopg")
    return service and importer[-1] == "domain" and imported[0] in STORAGE_AND_TRANSPORT


def test_the_rules_name_what_points_the_wrong_way() -> None:
    wrong = [
        (["services", "ops", "quorum"], ["services", "audit", "merkle"]),
        (["runtime", "db"], ["gateway", "app"]),
        (["gateway", "routes", "actions"], ["sqlalchemy", "select"]),
        (["services", "agent", "domain"], ["grpc"]),
    ]
    right = [
        (["services", "ops", "quorum"], ["services", "ops", "domain"]),
        (["services", "cli"], ["services", "audit", "bundle"]),  # the one command wires them
        (["gateway", "routes", "actions"], ["runtime", "clients"]),
        (["services", "agent", "service"], ["sqlalchemy"]),
    ]

    assert [wrong_way(a, b) for a, b in wrong] == [True] * 4
    assert [wrong_way(a, b) for a, b in right] == [False] * 4


def test_imports_point_one_way_across_the_boundaries() -> None:
    assert list(crossings()) == []
