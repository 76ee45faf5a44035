"""Trigger rules and firings as plain data, and the rules a definition must follow."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from runtime.errors import InvalidArgument
from runtime.outbox import automation

CREATE_EXPORT, RUN_CHECK = "create_export", "run_compliance_check"
NOTIFY, OPEN_INCIDENT = "notify_webhook", "open_incident"
STEPS = (CREATE_EXPORT, RUN_CHECK, NOTIFY, OPEN_INCIDENT)
# The events a step's own effects are named with: a rule matching them could feed itself.
STEP_FAMILIES = {
    CREATE_EXPORT: "export.",
    RUN_CHECK: "agent.compliance.",
    OPEN_INCIDENT: "agent.incident.",
}
OWN_FAMILY = "agent.trigger."
PENDING, DONE, FAILED = "pending", "done", "failed"
DEFAULT_ATTEMPTS, MAX_ATTEMPTS = 5, 20
MAX_NAME, MAX_REASON = 100, 500
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


@dataclass(frozen=True)
class Definition:
    """What an admin writes: everything of a rule but its identity and history."""

    name: str
    enabled: bool
    action: str
    conditions: Mapping[str, tuple[str, ...]]
    step: str
    parameters: Mapping[str, Any]
    max_attempts: int = DEFAULT_ATTEMPTS
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class Rule(Definition):
    id: str
    version: int
    created_by: str
    created_at: datetime
    latest_version: int = 0

    @property
    def automation(self) -> str:
        """The identity everything this rule version does is attributed to."""
        return f"trigger:{self.name}@v{self.version}"

    @property
    def requester(self) -> str:
        """Who asks for what this version causes (its export, compliance run and incident): the
        admin who wrote it, never the rule, so automation cannot launder who asked. A version
        no person wrote (the shipped defaults, "system:defaults") is its own requester."""
        author = self.created_by.strip()
        return self.automation if not author or author.startswith("system:") else author


@dataclass(frozen=True)
class Firing:
    id: str
    trigger_id: str
    trigger_name: str
    trigger_version: int
    event_id: str
    event_seq: int
    event_action: str
    event_target: str
    step: str
    state: str
    attempts: int
    last_error: str
    created: str
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime
    facts: Mapping[str, str] = field(default_factory=dict)


class DuplicateRule(Exception):
    """Another transaction created a rule of this name first (not a DomainError: a concurrent
    PutTrigger fails as before; the shipped defaults skip it)."""


def rule_actor(rule: Rule) -> dict[str, Any]:
    """The audit actor of everything a rule version does."""
    return automation(rule.automation, f"v{rule.version}")


def check(definition: Definition) -> Definition:
    """The definition, normalised; InvalidArgument names the first problem."""
    name = definition.name.strip()
    if not _NAME.match(name) or len(name) > MAX_NAME:
        raise InvalidArgument(
            f"name must be 1 to {MAX_NAME} of a-z, 0-9, '.', '_', '-' (starting with a-z or 0-9)"
        )
    action = definition.action.strip()
    if not action or " " in action:
        raise InvalidArgument("match.action must name one audit action, e.g. ops.action.executed")
    if definition.step not in STEPS:
        raise InvalidArgument(f"step.kind must be one of: {', '.join(STEPS)}")
    _no_loop(action, definition.step)
    if not 1 <= definition.max_attempts <= MAX_ATTEMPTS:
        raise InvalidArgument(f"max_attempts must be 1 to {MAX_ATTEMPTS}")
    reason = definition.reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidArgument(f"reason is required (at most {MAX_REASON} characters)")
    return Definition(
        name=name,
        enabled=definition.enabled,
        action=action,
        conditions=dict(definition.conditions),
        step=definition.step,
        parameters=dict(definition.parameters),
        max_attempts=definition.max_attempts,
        reason=reason,
    )


def _no_loop(action: str, step: str) -> None:
    if action.startswith(OWN_FAMILY):
        raise InvalidArgument(f"{OWN_FAMILY}* events never fire triggers")
    family = STEP_FAMILIES.get(step)
    if family and action.startswith(family):
        raise InvalidArgument(
            f"a {step} step cannot fire on {family}* events: it would feed itself"
        )
