"""Triage: incident intake (normalised, de-duplicated, correlated) and deterministic triage by a
versioned rule set, with proposals to ops. The names below are its public surface: what the
agent's other contexts (which raise incidents and audit through the agent's one outbox) and the
process's wiring may use."""

from services.agent.triage.domain.decisions import COMPARISONS, Decision
from services.agent.triage.domain.incidents import (
    MAX_METRIC_NAME,
    MAX_METRICS,
    MAX_SUMMARY,
    MAX_TEXT,
    Incident,
    NewIncident,
)
from services.agent.triage.domain.intake import Windows
from services.agent.triage.domain.kinds import Kinds, check_kind
from services.agent.triage.repository.decisions import get_decision
from services.agent.triage.repository.incidents import is_uuid
from services.agent.triage.repository.keyset import cut, newest_first
from services.agent.triage.repository.outbox import Event, record, record_events
from services.agent.triage.service.agent import DEFAULT_WINDOWS, Agent
from services.agent.triage.service.incidents import (
    accept,
    create_incident,
    fold_linked,
    open_one,
    resolve,
)
from services.agent.triage.service.kinds import active_kinds
from services.agent.triage.service.triage import triage_incident

__all__ = [
    "COMPARISONS",
    "DEFAULT_WINDOWS",
    "MAX_METRICS",
    "MAX_METRIC_NAME",
    "MAX_SUMMARY",
    "MAX_TEXT",
    "Agent",
    "Decision",
    "Event",
    "Incident",
    "Kinds",
    "NewIncident",
    "Windows",
    "accept",
    "active_kinds",
    "check_kind",
    "create_incident",
    "cut",
    "fold_linked",
    "get_decision",
    "is_uuid",
    "newest_first",
    "open_one",
    "record",
    "record_events",
    "resolve",
    "triage_incident",
]
