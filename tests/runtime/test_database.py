"""Schema ownership and migrations, on a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from alembic.script import ScriptDirectory

from runtime.migrate import alembic_config, upgrade
from runtime.pgserver import LocalPostgres
from runtime.provision import provision, service_url
from runtime.settings import SERVICES


def test_the_agent_role_cannot_read_an_ops_table(db_urls: dict[str, str]) -> None:
    with (
        psycopg.connect(db_urls["agent"]) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="schema ops"),
    ):
        conn.execute("SELECT * FROM ops.actions")


@pytest.mark.parametrize("reader", SERVICES)
def test_no_service_role_can_touch_another_services_schema(
    db_urls: dict[str, str], reader: str
) -> None:
    for owner in SERVICES:
        if owner == reader:
            continue
        with (
            psycopg.connect(db_urls[reader]) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute(f"CREATE TABLE {owner}.intruder (id int)")


def test_each_service_keeps_its_alembic_version_in_its_own_schema(db_urls: dict[str, str]) -> None:
    for service in SERVICES:
        with psycopg.connect(db_urls[service]) as conn:
            row = conn.execute(f"SELECT version_num FROM {service}.alembic_version").fetchone()
            assert row is not None
            head = ScriptDirectory.from_config(
                alembic_config(service, db_urls[service])
            ).get_current_head()
            assert row[0] == head


@pytest.mark.postgres
def test_migrations_run_up_from_an_empty_database(tmp_path: Path) -> None:
    server = LocalPostgres(tmp_path / "fresh", durable=False)
    server.start()
    try:
        provision(server.url())
        for service in SERVICES:
            upgrade(service, service_url(server.url(), service))
        with psycopg.connect(server.url(database="tradeops")) as conn:
            tables = conn.execute(
                "SELECT table_schema, table_name FROM information_schema.tables"
                " WHERE table_schema = ANY(%s)",
                (list(SERVICES),),
            ).fetchall()
        found = {schema for schema, _ in tables}
        assert found == set(SERVICES)
        for table in [
            ("ops", "outbox"),
            ("agent", "outbox"),
            ("ops", "actions"),
            ("audit", "records"),
        ]:
            assert table in tables
    finally:
        server.stop()
