"""SIEM forwarding's table, on the audit schema's MetaData: one row per destination, the durable
point up to which delivery was confirmed. Unlike the log's tables it is updated in place (no
append-only trigger)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Table, Text, func, text

from runtime.db import service_privileges
from services.audit.tables import metadata

siem_cursors = Table(
    "siem_cursors",
    metadata,
    Column("destination", Text, primary_key=True),
    Column("confirmed_seq", BigInteger, nullable=False, server_default=text("-1")),
    # The tree size of the last checkpoint forwarded; 0: none yet.
    Column("checkpoint_size", BigInteger, nullable=False, server_default=text("0")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    info=service_privileges("SELECT", "INSERT", "UPDATE"),
)
