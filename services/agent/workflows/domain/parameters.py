"""The parameters each step kind accepts, checked when a rule is written (templates are filled
from the event when it fires)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from runtime.errors import InvalidArgument
from services.agent.compliance import CHECKS
from services.agent.triage import check_kind
from services.agent.workflows.domain.facts import templates_known
from services.agent.workflows.domain.rules import CREATE_EXPORT, NOTIFY, OPEN_INCIDENT, RUN_CHECK

ALLOWED = {
    CREATE_EXPORT: {"kind", "format", "parameters", "destination"},
    RUN_CHECK: {"check_ids"},
    NOTIFY: {"webhook"},
    OPEN_INCIDENT: {"kind", "subject", "summary", "desk"},
}
FORMATS = ("jsonl", "csv")


def check_parameters(
    step: str, parameters: Mapping[str, Any], webhooks: Collection[str], kinds: Collection[str]
) -> dict[str, Any]:
    """The parameters, with defaults filled; InvalidArgument names the first problem. `kinds`
    are the incident kinds the active rule set declares (triage's active_kinds)."""
    if unknown := sorted(set(parameters) - ALLOWED[step]):
        raise InvalidArgument(f"{step} does not take {unknown}; it takes {sorted(ALLOWED[step])}")
    templates_known(dict(parameters))
    params = dict(parameters)
    if step == CREATE_EXPORT:
        return _export(params)
    if step == RUN_CHECK:
        return _checks(params)
    if step == NOTIFY:
        return _webhook(params, webhooks)
    return _incident(params, kinds)


def _text(params: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = params.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidArgument(f"parameter {key!r} must be a {'non-empty ' * required}string")
    return value


def _export(params: dict[str, Any]) -> dict[str, Any]:
    _text(params, "kind", required=True)
    params.setdefault("format", "jsonl")
    if params["format"] not in FORMATS:
        raise InvalidArgument(f"parameter 'format' must be one of {', '.join(FORMATS)}")
    _text(params, "destination")
    if not isinstance(params.setdefault("parameters", {}), dict):
        raise InvalidArgument("parameter 'parameters' must be an object")
    return params


def _checks(params: dict[str, Any]) -> dict[str, Any]:
    ids = params.setdefault("check_ids", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise InvalidArgument("parameter 'check_ids' must be a list of check ids")
    known = {c.id for c in CHECKS}
    if unknown := [i for i in ids if i not in known]:
        raise InvalidArgument(f"unknown check(s) {unknown}; known: {', '.join(sorted(known))}")
    return params


def _webhook(params: dict[str, Any], webhooks: Collection[str]) -> dict[str, Any]:
    name = _text(params, "webhook", required=True)
    if name not in webhooks:
        configured = ", ".join(sorted(webhooks)) or "none (set TRADEOPS_AGENT_WEBHOOKS)"
        raise InvalidArgument(f"webhook {name!r} is not configured; configured: {configured}")
    return params


def _incident(params: dict[str, Any], kinds: Collection[str]) -> dict[str, Any]:
    kind = _text(params, "kind", required=True)
    if "{" not in kind:  # a template is filled from the event; intake checks it when it fires
        check_kind(kind, kinds, "incident kind")
    for key in ("subject", "summary", "desk"):
        _text(params, key)
    return params
