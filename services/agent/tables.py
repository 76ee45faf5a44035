"""The agent schema's one MetaData, shared by its contexts (each puts its own tables on it in
its tables module), with the outbox and the idempotency keys every context's calls use."""

from __future__ import annotations

from sqlalchemy import MetaData

from runtime.idempotency import idempotency_table
from runtime.outbox import outbox_table

metadata = MetaData(schema="agent")

outbox = outbox_table(metadata)
idempotency_keys = idempotency_table(metadata)
