"""The log tables are append-only for the audit service's own role, and triggers refuse
changes even from roles that hold the rights."""

from __future__ import annotations

import psycopg
import pytest

from runtime.pgserver import LocalPostgres

CHANGES = [
    "UPDATE audit.records SET action = 'x'",
    "DELETE FROM audit.records",
    "TRUNCATE audit.records",
    "UPDATE audit.payloads SET payload_json = '{}'",
    "DELETE FROM audit.payloads",
    "DELETE FROM audit.nodes",
    "UPDATE audit.checkpoints SET note = ''",
]


# The role may set payload_json (to NULL, after a recorded redaction: the trigger decides).
ROLE_CHANGES = [c for c in CHANGES if "payload_json" not in c] + [
    "UPDATE audit.payloads SET seq = 0"
]


@pytest.mark.parametrize("statement", ROLE_CHANGES)
def test_the_audit_role_holds_no_right_to_change_the_log(
    db_urls: dict[str, str], statement: str
) -> None:
    with (
        psycopg.connect(db_urls["audit"]) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"),
    ):
        conn.execute(statement)


SEED = [
    "INSERT INTO audit.records (seq, event_id, occurred_at, actor, action, target, outcome,"
    " trace_id, source, payload_sha256, prev_hash, leaf_hash) VALUES (-7, gen_random_uuid(),"
    " now(), '{}', 'a', 't', 'success', '', 'test', repeat('0', 64), repeat('0', 64),"
    " repeat('0', 64))",
    "INSERT INTO audit.payloads (seq, payload_json) VALUES (-7, '{}')",
    "INSERT INTO audit.nodes (level, idx, hash) VALUES (60, -7, 'x')",
    "INSERT INTO audit.checkpoints (tree_size, root_hash, key_id, note)"
    " VALUES (-7, repeat('0', 64), 'abcd0123', 'n')",
]


@pytest.mark.parametrize("statement", CHANGES)
def test_a_trigger_refuses_changes_even_from_a_superuser(
    pg_server: LocalPostgres, db_urls: dict[str, str], statement: str
) -> None:
    with psycopg.connect(pg_server.url(database="tradeops")) as conn:
        for seed in SEED:
            conn.execute(seed)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(statement)
        conn.rollback()
