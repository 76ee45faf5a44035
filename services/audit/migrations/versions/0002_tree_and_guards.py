"""audit: Merkle nodes, signed checkpoints, signing keys' public parts, redactions, and the
append-only guards (no UPDATE/DELETE/TRUNCATE for the service's role, triggers that refuse
changes; a payload may only be set to NULL after a recorded redaction).

Revision ID: 0002_audit_tree_and_guards
Revises: 0001_audit_initial
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_audit_tree_and_guards"
down_revision = "0001_audit_initial"
branch_labels = None
depends_on = None

SCHEMA = "audit"
LOG_TABLES = ("records", "nodes", "checkpoints", "redactions")

REFUSE = """
CREATE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % on %.% refused',
    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
"""

# A redaction removes a payload's text; everything a proof covers stays.
GUARD_PAYLOADS = """
CREATE FUNCTION audit.guard_payload() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.seq = OLD.seq AND NEW.payload_json IS NULL
     AND EXISTS (SELECT 1 FROM audit.redactions r WHERE r.seq = OLD.seq) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'the audit log is append-only: % on audit.payloads refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def upgrade() -> None:
    _create_tables()
    op.create_index("ix_records_occurred_at", "records", ["occurred_at"], schema=SCHEMA)
    op.create_index("ix_records_action_seq", "records", ["action", "seq"], schema=SCHEMA)
    op.execute("CREATE INDEX ix_records_actor_seq ON audit.records ((actor ->> 'subject'), seq)")
    op.alter_column("payloads", "payload_json", nullable=True, schema=SCHEMA)
    op.execute(REFUSE)
    op.execute(GUARD_PAYLOADS)
    for table in LOG_TABLES:
        _guard(table, "audit.refuse_change()")
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit.{table} FROM CURRENT_USER")
    _guard("payloads", "audit.guard_payload()")
    op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON audit.payloads FROM CURRENT_USER")
    op.execute("GRANT UPDATE (payload_json) ON audit.payloads TO CURRENT_USER")


def _guard(table: str, function: str) -> None:
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON audit.{table}"
        f" FOR EACH ROW EXECUTE FUNCTION {function}"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON audit.{table}"
        " FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change()"
    )


def _create_tables() -> None:
    op.create_table(
        "redactions",
        sa.Column(
            "seq",
            sa.BigInteger(),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("redacted_by", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "redacted_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "nodes",
        sa.Column("level", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "checkpoints",
        sa.Column("tree_size", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.CHAR(64), nullable=False),
        sa.Column("key_id", sa.CHAR(8), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "signing_keys",
        sa.Column("key_id", sa.CHAR(8), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("vkey", sa.Text(), nullable=False, unique=True),
        sa.Column("from_size", sa.BigInteger(), nullable=False),
        sa.Column("until_size", sa.BigInteger()),
        sa.Column(
            "added_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        schema=SCHEMA,
    )


def downgrade() -> None:
    for index in ("ix_records_occurred_at", "ix_records_action_seq", "ix_records_actor_seq"):
        op.drop_index(index, table_name="records", schema=SCHEMA)
    for table in (*LOG_TABLES, "payloads"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON audit.{table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON audit.{table}")
        op.execute(f"GRANT UPDATE, DELETE, TRUNCATE ON audit.{table} TO CURRENT_USER")
    op.execute("DROP FUNCTION audit.guard_payload()")
    op.execute("DROP FUNCTION audit.refuse_change()")
    for table in ("signing_keys", "checkpoints", "nodes", "redactions"):
        op.drop_table(table, schema=SCHEMA)
    op.alter_column("payloads", "payload_json", nullable=False, schema=SCHEMA)
