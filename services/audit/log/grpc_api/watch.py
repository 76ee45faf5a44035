"""WatchRecords: the process's tail of the log (service.tail) as a server stream. The shared
guard has checked the caller's token and role before the first message, as for every RPC
(READERS, as ListRecords)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Any

import grpc

from runtime.auth import current_principal
from runtime.errors import Unavailable
from services.audit.log.domain.records import Record
from services.audit.log.domain.watch import Interest, Kind, Notice
from services.audit.log.grpc_api import messages
from services.audit.log.service import watching
from services.audit.log.service.log import AuditLog
from services.audit.log.service.tail import Tail
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc

Context = grpc.aio.ServicerContext[Any, Any]
TYPES = {
    Kind.STARTED: pb.RecordNotice.TYPE_STARTED,
    Kind.RECORD: pb.RecordNotice.TYPE_RECORD,
    Kind.RESYNC: pb.RecordNotice.TYPE_RESYNC,
    Kind.HEARTBEAT: pb.RecordNotice.TYPE_HEARTBEAT,
}


class WatchRpcs(pb_grpc.AuditServiceServicer):
    _log: AuditLog
    _tail: Tail | None

    async def WatchRecords(
        self, request: pb.WatchRecordsRequest, context: Context
    ) -> AsyncIterator[pb.RecordNotice]:
        if self._tail is None:
            raise Unavailable("this server does not serve WatchRecords")
        found = watching.watch(
            self._log,
            self._tail,
            caller=current_principal(),
            after_seq=request.after_seq if request.HasField("after_seq") else None,
            interest=Interest(request.target_prefix, request.action_prefix),
        )
        async with found as notices:
            async for notice in notices:
                yield message(notice)


def message(notice: Notice) -> pb.RecordNotice:
    if notice.record is not None:
        return _record(notice.record)
    return pb.RecordNotice(type=TYPES[notice.kind], through_seq=notice.through_seq)


@lru_cache(maxsize=1024)
def _record(record: Record) -> pb.RecordNotice:
    """Built once for every stream the record goes to (messages are not changed once built)."""
    return pb.RecordNotice(
        type=pb.RecordNotice.TYPE_RECORD, record=messages.record(record), through_seq=record.seq
    )
