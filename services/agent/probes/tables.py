"""Probe definitions (current row + every version kept), their durable schedule and incident
state, and a bounded history of runs, on the agent schema's metadata (migration
0005_agent_probes)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from runtime.db import service_privileges
from services.agent.tables import metadata

TS = DateTime(timezone=True)

# The current version of each probe, and its schedule: a worker claims a due row with FOR
# UPDATE SKIP LOCKED and moves next_run_at on in the same transaction, so each due run happens
# once across replicas. open_incident_id links the failing spell's one incident.
probes = Table(
    "probes",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("version", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("definition", JSONB, nullable=False),
    Column("changed_by", Text, nullable=False),
    Column("changed_at", TS, nullable=False),
    Column("next_run_at", TS, nullable=False),
    Column("open_incident_id", UUID(as_uuid=False), ForeignKey("agent.incidents.id")),
    Column("last_run_id", UUID(as_uuid=False)),
    Index("ix_probes_due", "next_run_at", postgresql_where=text("enabled")),
)

# Every version ever stored, never updated or deleted: what a run's version number meant.
probe_versions = Table(
    "probe_versions",
    metadata,
    Column("probe_id", UUID(as_uuid=False), ForeignKey("agent.probes.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("change", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("definition", JSONB, nullable=False),
    Column("changed_by", Text, nullable=False),
    Column("changed_at", TS, nullable=False),
    PrimaryKeyConstraint("probe_id", "version", name="pk_probe_versions"),
    # History: written once, never changed or deleted by the service.
    info=service_privileges("SELECT", "INSERT"),
)

probe_runs = Table(
    "probe_runs",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("probe_id", UUID(as_uuid=False), ForeignKey("agent.probes.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("started_at", TS, nullable=False),
    Column("status", Text, nullable=False),
    Column("value", Float),
    Column("error", Text, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("incident_id", UUID(as_uuid=False)),
    Column("incident_step", Text, nullable=False),
    Index("ix_probe_runs_probe", "probe_id", "started_at"),
)
