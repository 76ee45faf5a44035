"""The probe tables and the incidents' resolution columns as migrated (0005_agent_probes) match
their definitions in services.agent.probes.tables and services.agent.tables."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine

from runtime.db import sqlalchemy_url
from services.agent.compliance import tables as compliance
from services.agent.probes import tables as probes
from services.agent.tables import metadata

# Imported for their tables: each module puts its own on the agent's one MetaData.
REGISTERED = (compliance, probes)

OURS = {"probes", "probe_versions", "probe_runs", "incidents", "compliance_results"}


def _schema(name: str | None, type_: str, parent: dict[str, Any]) -> bool:
    return type_ != "schema" or name == "agent"


def _ours(item: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
    table = item if type_ == "table" else getattr(item, "table", None)
    return table is not None and table.name in OURS


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "include_schemas": True,
            "include_name": _schema,
            "include_object": _ours,
            "compare_type": True,
            "compare_server_default": True,
        },
    )
    return list(compare_metadata(context, metadata))


def test_the_migrated_probe_tables_match_their_definitions(db_urls: dict[str, str]) -> None:
    assert {t.name for t in metadata.sorted_tables} >= OURS
    engine = create_engine(sqlalchemy_url(db_urls["agent"]))
    try:
        with engine.connect() as connection:
            assert _differences(connection) == []
    finally:
        engine.dispose()
