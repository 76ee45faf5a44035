"""The audit service's own database role may append to its log and read it, nothing more: it
owns no table, so it cannot re-grant itself, alter a table, switch the append-only triggers
off, or (re)create a table of keys that verification would trust. Each statement is tried as
audit_svc, the role the service logs in as, and must be refused with nothing changed."""

from __future__ import annotations

import psycopg
import pytest

from runtime.pgserver import LocalPostgres
from runtime.settings import SERVICES

DENIED = "42501"  # insufficient_privilege
REFUSED = [
    ("UPDATE audit.records SET action = 'x'", DENIED),
    ("DELETE FROM audit.records", DENIED),
    ("TRUNCATE audit.records", DENIED),
    ("DROP TABLE audit.records", DENIED),
    ("ALTER TABLE audit.records ADD COLUMN forged text", DENIED),
    ("ALTER TABLE audit.records DISABLE TRIGGER records_append_only", DENIED),
    ("ALTER TABLE audit.payloads DISABLE TRIGGER ALL", DENIED),
    ("UPDATE audit.payloads SET seq = seq", DENIED),
    ("DELETE FROM audit.checkpoints", DENIED),
    ("CREATE TABLE audit.signing_keys (key_id text, vkey text)", DENIED),
    (
        "INSERT INTO audit.signing_keys (key_id, name, vkey, from_size)"
        " VALUES ('0badc0de', 'tradeops.local-audit', 'forged', 0)",
        "42P01",
    ),
    (
        "CREATE OR REPLACE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN RETURN NEW; END $$",
        DENIED,
    ),
    ("SET ROLE audit_owner", DENIED),
    ("SELECT version_num FROM audit.alembic_version", DENIED),
]


def snapshot(admin_url: str) -> tuple[object, ...]:
    """What a refused statement must leave as it was: the rows, columns, triggers and rights."""
    with psycopg.connect(admin_url) as conn:
        return tuple(
            conn.execute(query).fetchall()
            for query in (
                "SELECT count(*), coalesce(max(seq), -1) FROM audit.records",
                "SELECT count(*) FROM audit.checkpoints",
                "SELECT attname FROM pg_attribute WHERE attrelid = 'audit.records'::regclass"
                " AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger"
                " WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'audit.%' ORDER BY 1, 2",
                "SELECT relname, relacl::text FROM pg_class"
                " WHERE relnamespace = 'audit'::regnamespace ORDER BY 1",
                "SELECT md5(prosrc) FROM pg_proc WHERE proname = 'refuse_change'",
            )
        )


@pytest.mark.parametrize(("statement", "sqlstate"), REFUSED)
def test_the_audit_role_is_refused(
    pg_server: LocalPostgres, db_urls: dict[str, str], statement: str, sqlstate: str
) -> None:
    admin = pg_server.url(database="tradeops")
    before = snapshot(admin)
    with psycopg.connect(db_urls["audit"]) as conn, pytest.raises(psycopg.Error) as refused:
        conn.execute(statement)

    assert refused.value.sqlstate == sqlstate, refused.value
    assert snapshot(admin) == before


def test_the_audit_role_cannot_grant_itself_more(
    pg_server: LocalPostgres, db_urls: dict[str, str]
) -> None:
    """PostgreSQL answers a GRANT without grant option with a warning, not an error: what
    counts is that no right was added."""
    admin = pg_server.url(database="tradeops")
    before = snapshot(admin)
    warnings: list[str | None] = []
    with psycopg.connect(db_urls["audit"], autocommit=True) as conn:
        conn.add_notice_handler(lambda notice: warnings.append(notice.sqlstate))
        conn.execute("GRANT UPDATE, DELETE, TRUNCATE ON audit.records TO audit_svc")
        conn.execute("GRANT ALL ON audit.head TO audit_svc")
        can = conn.execute(
            "SELECT has_table_privilege('audit.records', 'UPDATE'),"
            " has_table_privilege('audit.records', 'DELETE'),"
            " has_table_privilege('audit.head', 'DELETE')"
        ).fetchone()

    assert warnings == ["01007", "01007"]  # privilege_not_granted
    assert can == (False, False, False)
    assert snapshot(admin) == before


def test_the_audit_role_may_append_and_read_only(db_urls: dict[str, str]) -> None:
    with psycopg.connect(db_urls["audit"]) as conn:
        rights = conn.execute(
            "SELECT c.relname, array_agg(p.privilege ORDER BY p.privilege)"
            " FROM pg_class c, unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE',"
            " 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p(privilege)"
            " WHERE c.relnamespace = 'audit'::regnamespace AND c.relkind = 'r'"
            " AND has_table_privilege(c.oid, p.privilege) GROUP BY c.relname ORDER BY 1"
        ).fetchall()

    assert dict(rights) == {
        "checkpoints": ["INSERT", "SELECT"],
        "head": ["SELECT", "UPDATE"],
        "nodes": ["INSERT", "SELECT"],
        "payloads": ["INSERT", "SELECT"],  # and UPDATE of payload_json alone, for redactions
        "records": ["INSERT", "SELECT"],
        "redactions": ["INSERT", "SELECT"],
        "siem_cursors": ["INSERT", "SELECT", "UPDATE"],
    }


@pytest.mark.parametrize("service", SERVICES)
def test_no_service_role_owns_its_schema_or_may_become_its_owner(
    pg_server: LocalPostgres, db_urls: dict[str, str], service: str
) -> None:
    with psycopg.connect(pg_server.url(database="tradeops")) as conn:
        owners = conn.execute(
            "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = %s"
            " UNION SELECT tableowner FROM pg_tables WHERE schemaname = %s",
            (service, service),
        ).fetchall()
    assert owners == [(f"{service}_owner",)]
    with psycopg.connect(db_urls[service]) as conn:
        can = conn.execute(
            "SELECT has_schema_privilege(%s, 'CREATE'), pg_has_role(%s, 'MEMBER')",
            (service, f"{service}_owner"),
        ).fetchone()
    assert can == (False, False)
