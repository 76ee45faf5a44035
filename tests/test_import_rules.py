"""How product code (services/, runtime/, gateway/) may import: no cycle, and imports that
point one way across the boundaries (a service never imports another, the shared runtime
imports neither, the gateway touches no service code and no SQL, a domain module imports no
transport or storage). Every import counts: one inside a function or under TYPE_CHECKING still
ties two modules together, so moving an import into a function to dodge a rule fails here too."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("services", "runtime", "gateway")
SERVICES = ("agent", "ops", "export", "audit")
STORAGE_AND_TRANSPORT = ("grpc", "sqlalchemy", "psycopg", "tradeops", "boto3", "botocore")

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


# One shape for every bounded context (ARCHITECTURE.md, "Inside a service"). A context is the
# service itself or, where a service holds several, one of the sub-packages named here. Inside a
# context every module sits under a role name; roles import only roles of a lower rank (or their
# own), and another context only through its package (`__init__`, its public surface).
CONTEXTS: dict[str, tuple[str, ...]] = {
    "agent": ("triage", "remediation", "compliance", "probes", "workflows"),
    "ops": (),
    "export": (),
    "audit": ("log", "siem", "bundle"),
}
SHAPED = ("agent", "audit", "export", "ops")  # every service follows the shape
RANKS = {
    "domain": 0,
    "settings": 1,
    "tables": 1,
    "repository": 2,
    "clients": 2,
    "service": 3,
    "grpc_api": 4,
    "workers": 4,
    "cli": 4,
}
SERVICE_ROOT = {"__init__", "__main__", "migrations", "settings", "tables", "cli"}
SHARED_AT_ROOT = {"tables", "settings"}  # the schema's MetaData and outbox, the process settings
TRANSPORT_ROLES = {"grpc_api", "clients", "cli", "__main__"}
SQL_ROLES = {"repository", "tables", "migrations", "__main__"}
STORE_ROLES = {"clients", "__main__"}  # object storage (the export store's S3 client)
SESSION_TYPE = "sqlalchemy.ext.asyncio.AsyncSession"  # use cases open and pass transactions
MAX_LINES = 210


def place(module: str) -> tuple[str, str | None, str]:
    """(service, context or None, role) of a module under services/<service>/."""
    parts = module.split(".")
    service, rest = parts[1], parts[2:]
    context = None
    if rest and rest[0] in CONTEXTS.get(service, ()):
        context, rest = rest[0], rest[1:]
    return service, context, rest[0] if rest else "__init__"


def misplaced(module: str) -> str | None:
    service, context, role = place(module)
    if context is None and CONTEXTS[service]:
        return None if role in SERVICE_ROOT else f"{module}: not a role or context of {service}"
    allowed = set(RANKS) | {"__init__"} | (SERVICE_ROOT if context is None else set())
    return None if role in allowed else f"{module}: '{role}' is not a role name"


def wrong_direction(importer: str, imported: str, owner: str) -> str | None:
    """Why `importer` may not import `imported` (owned by module `owner`), or None."""
    service, context, role = place(importer)
    if role in ("__main__", "migrations"):
        return None
    if not owner.startswith(f"services.{service}."):
        return library_rule(role, imported)
    _, their_context, their_role = place(owner)
    if their_context != context:
        if their_context is None:
            return None if their_role in SHARED_AT_ROOT else "reaches up into the service root"
        surface = f"services.{service}.{their_context}"
        return None if owner == surface else f"goes round {surface}'s public surface"
    if role == "__init__" or their_role == role:
        return None
    if their_role == "__init__":
        return "imports its own context's package"
    if their_role not in RANKS or RANKS[their_role] >= RANKS.get(role, -1):
        return f"{role} may not import {their_role}"
    return None


def library_rule(role: str, imported: str) -> str | None:
    top = imported.split(".")[0]
    if top in ("tradeops", "grpc") and role not in TRANSPORT_ROLES:
        return f"{role} may not import gRPC or generated code"
    if top in ("boto3", "botocore") and role not in STORE_ROLES:
        return f"{role} may not call object storage (boto3 belongs in clients/)"
    if top in ("sqlalchemy", "psycopg") and role not in SQL_ROLES:
        if imported == SESSION_TYPE and role != "domain":
            return None
        return f"{role} may not run SQL"
    return None


def shape_faults(service: str) -> Iterator[str]:
    known = modules()
    prefix = f"services.{service}"
    for name, path in sorted(known.items()):
        if not (name + ".").startswith(prefix + "."):
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and "migrations" not in name:
            yield f"{name}: {lines} lines (a role module that outgrows this becomes a package)"
        if name == prefix:
            continue
        if fault := misplaced(name):
            yield fault
        for imported in imported_names(name, path):
            owner = imported
            while owner and owner not in known:
                owner = owner.rpartition(".")[0]
            if fault := wrong_direction(name, imported, owner or imported):
                yield f"{name} -> {imported}: {fault}"


def test_the_shape_rules_name_what_is_out_of_place() -> None:
    # (importer, imported name, the module that owns the name)
    wrong = [
        ("services.ops.service.votes", "sqlalchemy.select", "sqlalchemy.select"),
        (
            "services.ops.domain.actions",
            "services.ops.repository.actions.load",
            "services.ops.repository.actions",
        ),
        ("services.ops.service.votes", "tradeops.ops.v1.ops_pb2", "tradeops.ops.v1.ops_pb2"),
        ("services.export.service.files", "boto3.session", "boto3.session"),
        (
            "services.agent.workflows.service.rules.runs",
            "services.agent.triage.service.x",
            "services.agent.triage.service",
        ),
        (
            "services.agent.probes.workers.loop",
            "services.agent.service.x",
            "services.agent.service",
        ),
        (
            "services.ops.service.votes",
            "services.ops.grpc_api.messages.x",
            "services.ops.grpc_api.messages",
        ),
    ]
    right = [
        ("services.ops.service.votes", SESSION_TYPE, SESSION_TYPE),
        (
            "services.ops.service.votes",
            "services.ops.repository.votes.save",
            "services.ops.repository.votes",
        ),
        ("services.ops.grpc_api.servicer", "tradeops.ops.v1.ops_pb2", "tradeops.ops.v1.ops_pb2"),
        ("services.export.clients.store.s3", "boto3.session", "boto3.session"),
        (
            "services.agent.workflows.service.rules.runs",
            "services.agent.triage.Incident",
            "services.agent.triage",
        ),
        (
            "services.agent.probes.repository.runs",
            "services.agent.tables.metadata",
            "services.agent.tables",
        ),
        ("services.ops.__main__", "services.ops.workers.timers.run", "services.ops.workers.timers"),
    ]

    assert [wrong_direction(*case) is not None for case in wrong] == [True] * len(wrong)
    assert [wrong_direction(*case) for case in right] == [None] * len(right)
    assert misplaced("services.ops.vote_store")
    assert misplaced("services.ops.repository.votes") is None


def wiring_faults() -> Iterator[str]:
    """Imports by the command wiring beside the services (services/cli.py, services/deploy.py)
    that reach into a service's internals: it may use a context's package (its public surface)
    or the context's cli module, which holds its commands, and nothing else."""
    known = modules()
    for name, path in sorted(known.items()):
        if name.count(".") != 1 or name.split(".")[1] in SERVICES:
            continue
        for imported in imported_names(name, path):
            parts = imported.split(".")
            if parts[0] != "services" or len(parts) < 2 or parts[1] not in SERVICES:
                continue
            owner = imported
            while owner and owner not in known:
                owner = owner.rpartition(".")[0]
            service, context, role = place(owner)
            surface = f"services.{service}" + (f".{context}" if context else "")
            if owner != surface and role != "cli":
                yield f"{name} -> {imported}: goes round {surface}'s public surface"


def test_the_command_wiring_uses_only_the_services_public_surfaces() -> None:
    assert list(wiring_faults()) == []


@pytest.mark.parametrize("service", SHAPED)
def test_every_module_of_a_reshaped_service_sits_in_its_role(service: str) -> None:
    assert list(shape_faults(service)) == []


def test_no_module_of_the_runtime_or_gateway_outgrows_a_screenful_or_four() -> None:
    long = [
        f"{path.relative_to(ROOT)}: {n}"
        for package in ("runtime", "gateway")
        for path in (ROOT / package).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert long == []
