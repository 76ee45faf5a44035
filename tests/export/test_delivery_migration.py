"""The delivery and scheduling tables as migrated (0004_export_delivery), and the S3 object
versions (0009_export_object_versions), match their definitions in services.export.tables; the
service's role may add object versions but never change or remove one."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine, text

from runtime.db import sqlalchemy_url
from services.export.tables import metadata

OURS = {"delivery_attempts", "deliveries", "verifications", "schedules", "object_versions"}


def _schema(name: str | None, type_: str, parent: dict[str, Any]) -> bool:
    return type_ != "schema" or name == "export"


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


def test_the_migrated_delivery_tables_match_their_definitions(db_urls: dict[str, str]) -> None:
    assert {t.name for t in metadata.sorted_tables} >= OURS
    engine = create_engine(sqlalchemy_url(db_urls["export"]))
    try:
        with engine.connect() as connection:
            assert _differences(connection) == []
    finally:
        engine.dispose()


def test_the_service_role_may_add_object_versions_but_never_change_one(
    db_urls: dict[str, str],
) -> None:
    engine = create_engine(sqlalchemy_url(db_urls["export"]))
    asked = "SELECT has_table_privilege(current_user, 'export.object_versions', :privilege)"
    try:
        with engine.connect() as connection:
            held = {
                privilege: connection.execute(text(asked), {"privilege": privilege}).scalar()
                for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
            }
    finally:
        engine.dispose()
    assert held == {
        "SELECT": True,
        "INSERT": True,
        "UPDATE": False,
        "DELETE": False,
        "TRUNCATE": False,
    }
