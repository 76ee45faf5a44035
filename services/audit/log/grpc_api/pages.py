"""StreamRecordPages: the records StreamRecords would send, PAGE_SIZE to a message.

Python gRPC carries about 10,000 messages a second on one stream whatever their size, so a
million-record export spent most of its time on per-message overhead. The records, their order,
the range rules, the errors and the read's audit event are service.stream's; only the framing
and the read path differ (page_reader.py: one lean query per page, read ahead of the send).
Memory stays bounded by two pages: the one being sent and the one being read."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

from runtime.auth import Principal
from services.audit.log.grpc_api import page_reader
from services.audit.log.service import log as service
from services.audit.log.service.log import AuditLog
from tradeops.audit.v1 import audit_service_pb2 as pb

PAGE_SIZE = 1000


async def record_pages(
    log: AuditLog, *, caller: Principal, from_seq: int, to_seq: int, page_size: int = PAGE_SIZE
) -> AsyncGenerator[pb.RecordPage, None]:
    """Non-empty pages of consecutive records with from_seq <= seq <= to_seq (-1: the end of
    the log when called). The read is audited as service.stream audits it."""
    last = await service.start_stream(log, caller=caller, from_seq=from_seq, to_seq=to_seq)
    found = page_reader.pages(log.db, after=from_seq - 1, last=last, size=page_size)
    async with contextlib.aclosing(found):  # a caller who stops early stops the read ahead
        async for page in found:
            yield page
