"""Schema ownership and migrations, on a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from alembic.script import ScriptDirectory

from runtime import cli
from runtime.migrate import MigrationError, alembic_config, upgrade
from runtime.pgserver import LocalPostgres
from runtime.provision import migration_url, owner_url, provision, service_url
from runtime.settings import SERVICES, SettingsError


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


def test_each_service_keeps_its_alembic_version_in_its_own_schema(
    pg_server: LocalPostgres, db_urls: dict[str, str]
) -> None:
    for service in SERVICES:
        with psycopg.connect(owner_url(pg_server.url(), service)) as conn:
            row = conn.execute(f"SELECT version_num FROM {service}.alembic_version").fetchone()
            assert row is not None
            head = ScriptDirectory.from_config(
                alembic_config(service, db_urls[service])
            ).get_current_head()
            assert row[0] == head


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_role_may_not_run_migrations(db_urls: dict[str, str], service: str) -> None:
    with pytest.raises(MigrationError, match=f"run as its owner role {service}_owner"):
        upgrade(service, db_urls[service])


def test_migrations_without_an_owner_url_name_the_settings_to_set() -> None:
    env = {"TRADEOPS_AUDIT_DATABASE_URL": "postgresql://audit_svc@db/tradeops"}
    with pytest.raises(SettingsError, match="TRADEOPS_AUDIT_OWNER_DATABASE_URL"):
        migration_url("audit", env)
    admin = {"TRADEOPS_ADMIN_DATABASE_URL": "postgresql://root:pw@db:5432/postgres?sslmode=require"}
    assert migration_url("audit", admin) == "postgresql://root:pw@db:5432/tradeops?sslmode=require"
    shared = {**admin, "TRADEOPS_OWNER_DATABASE_URL": "postgresql://owners@db/tradeops"}
    assert migration_url("ops", shared) == "postgresql://owners@db/tradeops"
    own = {**shared, "TRADEOPS_OPS_OWNER_DATABASE_URL": "postgresql://ops_owner@db/tradeops"}
    assert migration_url("ops", own) == "postgresql://ops_owner@db/tradeops"


@pytest.mark.postgres
def test_migrations_run_up_from_an_empty_database(tmp_path: Path) -> None:
    server = LocalPostgres(tmp_path / "fresh", durable=False)
    server.start()
    try:
        provision(server.url())
        for service in SERVICES:
            upgrade(service, owner_url(server.url(), service))
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


@pytest.mark.postgres
def test_provisioning_moves_a_schema_the_service_role_owned_to_the_owner_role(
    tmp_path: Path,
) -> None:
    """Databases provisioned before owner roles existed: the service role owned its schema and
    tables, and could alter them. Provisioning again hands both to the owner, idempotently."""
    server = LocalPostgres(tmp_path / "old", durable=False)
    server.start()
    try:
        provision(server.url())
        upgrade("audit", owner_url(server.url(), "audit"))
        with psycopg.connect(server.url(database="tradeops"), autocommit=True) as conn:
            conn.execute("REASSIGN OWNED BY audit_owner TO audit_svc")  # as it used to be
            conn.execute("GRANT CREATE ON SCHEMA audit TO audit_svc")
        for _ in range(2):
            provision(server.url())
        upgrade("audit", owner_url(server.url(), "audit"))
        with psycopg.connect(server.url(database="tradeops")) as conn:
            owners = conn.execute(
                "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'audit'"
                " UNION SELECT tableowner FROM pg_tables WHERE schemaname = 'audit'"
            ).fetchall()
        assert owners == [("audit_owner",)]
        with (
            psycopg.connect(service_url(server.url(), "audit")) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege, match="must be owner"),
        ):
            conn.execute("ALTER TABLE audit.records DISABLE TRIGGER records_append_only")
    finally:
        server.stop()


def test_migrate_with_only_the_services_urls_is_refused_and_says_why(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("TRADEOPS_ADMIN_DATABASE_URL", "TRADEOPS_OWNER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for service in SERVICES:
        monkeypatch.delenv(f"TRADEOPS_{service.upper()}_OWNER_DATABASE_URL", raising=False)
    monkeypatch.setenv("TRADEOPS_DATABASE_URL", "postgresql://agent_svc@127.0.0.1:1/tradeops")

    assert cli.main(["migrate"]) == 2
    assert "run as the schema's owner role agent_owner" in capsys.readouterr().err
