"""What the product code spells: string constants found by reading its source (ast), with
module-level string constants substituted into f-strings and `+`, and `{}` where a part is only
known at run time (`f"TRADEOPS_{svc.upper()}_ADDR"` reads `TRADEOPS_{}_ADDR`)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("runtime", "services", "gateway")
UNKNOWN = "{}"


@dataclass(frozen=True)
class Spelled:
    text: str  # with UNKNOWN for each part known only at run time
    path: Path
    line: int
    call: str  # the name of the call it is an argument of, "" if none
    next_argument: object  # the constant after it in that call, None if none


def modules() -> Iterator[Path]:
    for package in PRODUCT:
        yield from sorted((ROOT / package).rglob("*.py"))


@cache
def everything() -> tuple[Spelled, ...]:
    """Every string of every product module, read once per process (the tables share it)."""
    return tuple(text for path in modules() for text in spelled(path))


def spelled(path: Path) -> Iterator[Spelled]:
    """Every string the module builds, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = _module_constants(tree)
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and _is_docstring(node)
    }
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        named = isinstance(node, ast.Name) and node.id in constants
        if not isinstance(node, ast.expr) or id(node) in docstrings:
            continue
        if not (_is_text(node) or named):
            continue
        if isinstance(parents.get(id(node)), ast.JoinedStr | ast.BinOp):
            continue  # part of a larger string, read as that one
        text = _text(node, constants)
        if text is not None:
            call, after = _call_context(node, parents, constants)
            yield Spelled(text, path, getattr(node, "lineno", 0), call, after)


def _is_docstring(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _is_text(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.BinOp):  # a constant's name on one side is enough: NAME + suffix
        sides = (node.left, node.right)
        return isinstance(node.op, ast.Add) and any(
            _is_text(s) or isinstance(s, ast.Name) for s in sides
        )
    return isinstance(node, ast.JoinedStr)


def _module_constants(tree: ast.Module) -> dict[str, str]:
    """`NAME = "text"` and `A, B = ("a", "b")` at the module's top level."""
    found: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            pairs: list[tuple[ast.expr, ast.expr]] = [(target, node.value)]
            if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                pairs = list(zip(target.elts, node.value.elts, strict=False))
            for name, value in pairs:
                text = value.value if isinstance(value, ast.Constant) else None
                if isinstance(name, ast.Name) and isinstance(text, str):
                    found[name.id] = text
    return found


def _text(node: ast.expr, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.Name):
        return constants.get(node.id, UNKNOWN)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left, constants), _text(node.right, constants)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.JoinedStr):
        parts = (
            _text(v.value, constants) if isinstance(v, ast.FormattedValue) else _text(v, constants)
            for v in node.values
        )
        return "".join(UNKNOWN if part is None else part for part in parts)
    return UNKNOWN


def _call_context(
    node: ast.expr, parents: dict[int, ast.AST], constants: dict[str, str]
) -> tuple[str, object]:
    call = parents.get(id(node))
    if not isinstance(call, ast.Call):
        return "", None
    name = call.func.attr if isinstance(call.func, ast.Attribute) else ""
    name = call.func.id if isinstance(call.func, ast.Name) else name
    index = next((i for i, arg in enumerate(call.args) if arg is node), -1)
    after = call.args[index + 1] if 0 <= index < len(call.args) - 1 else None
    if isinstance(after, ast.Name):
        return name, constants.get(after.id)
    return name, after.value if isinstance(after, ast.Constant) else None
