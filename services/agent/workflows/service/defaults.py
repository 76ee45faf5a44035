"""The shipped default rules (defaults.json), written on start as version 1 of each rule whose
name does not exist yet, by "system:defaults" and audited like any change. An admin's later
versions, or disabling one, are kept: defaults never overwrite."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from importlib import resources
from typing import Any

from runtime.db import Database
from runtime.errors import InvalidArgument
from runtime.outbox import automation
from services.agent.triage import active_kinds
from services.agent.workflows.domain.rules import DEFAULT_ATTEMPTS, Definition, DuplicateRule, Rule
from services.agent.workflows.repository import rules as rule_store
from services.agent.workflows.service.rules import normalise, write_version

AUTHOR = "system:defaults"
log = logging.getLogger(__name__)


def shipped() -> list[Definition]:
    text = resources.files("services.agent.workflows").joinpath("defaults.json").read_text()
    return [definition(entry) for entry in json.loads(text)]


def definition(entry: dict[str, Any]) -> Definition:
    """A rule definition from its JSON form (the shape of the gateway's PUT body)."""
    match, step = entry.get("match", {}), entry.get("step", {})
    return Definition(
        name=entry.get("name", ""),
        enabled=bool(entry.get("enabled", True)),
        action=match.get("action", ""),
        conditions=match.get("conditions", {}),
        step=step.get("kind", ""),
        parameters=step.get("parameters", {}),
        max_attempts=int(entry.get("max_attempts", DEFAULT_ATTEMPTS)),
        reason=entry.get("reason", ""),
    )


async def ensure(db: Database, clock: Callable[[], datetime]) -> list[Rule]:
    """Creates the missing defaults; returns those it created."""
    created = []
    actor = automation(AUTHOR, "defaults.json")
    for each in shipped():
        try:
            async with db.transaction() as session:
                rule = normalise(each, (), await active_kinds(session))
                if await rule_store.named(session, rule.name) is None:
                    new_id = str(uuid.uuid4())
                    written = await write_version(session, rule, new_id, 1, actor, AUTHOR, clock())
                    created.append(written)
        except DuplicateRule:  # another replica created it at the same moment
            continue
        except InvalidArgument as exc:
            # The active rule set withdrew the kind a default opens: the other defaults and
            # the triggers still run; the next start writes it once a version declares it.
            log.warning("default trigger %s not written: %s", each.name, exc)
    return created
