"""StreamRecordPages: the records StreamRecords would send, PAGE_SIZE to a message.

Python gRPC carries about 10,000 messages a second on one stream whatever their size, so a
million-record export spent most of its time on per-message overhead. The records, their order,
the range rules, the errors and the read's audit event are service.stream's; only the framing
differs. A page is sent as soon as it is full, so memory stays bounded by one page."""

from __future__ import annotations

from collections.abc import AsyncIterator

from runtime.auth import Principal
from services.audit import messages, service
from services.audit.service import AuditLog
from tradeops.audit.v1 import audit_service_pb2 as pb

PAGE_SIZE = 1000


async def record_pages(
    log: AuditLog, *, caller: Principal, from_seq: int, to_seq: int, page_size: int = PAGE_SIZE
) -> AsyncIterator[pb.RecordPage]:
    """Non-empty pages of consecutive records with from_seq <= seq <= to_seq (-1: the end)."""
    page: list[pb.AuditRecord] = []
    found = service.stream(log, caller=caller, from_seq=from_seq, to_seq=to_seq)
    async for record in found:
        page.append(messages.record(record))
        if len(page) >= page_size:
            yield pb.RecordPage(records=page)
            page = []
    if page:
        yield pb.RecordPage(records=page)
