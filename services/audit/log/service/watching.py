"""WatchRecords as a use case: checks what the watcher asks, subscribes it to the process's tail
(service.tail) and audits the read once, when the stream is admitted: a long-lived stream is one
read, however many records it carries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from runtime.auth import Principal
from runtime.errors import InvalidArgument
from services.audit.log.domain.watch import Interest, Notice
from services.audit.log.service.log import AuditLog, note_read
from services.audit.log.service.tail import Tail

MAX_PREFIX = 256


@asynccontextmanager
async def watch(
    log: AuditLog, tail: Tail, *, caller: Principal, after_seq: int | None, interest: Interest
) -> AsyncIterator[AsyncIterator[Notice]]:
    """The stream's notices (domain.watch), for the duration of the block; after_seq None:
    from now on."""
    if after_seq is not None and after_seq < -1:
        raise InvalidArgument("after_seq must be -1 (from the log's first record) or a seq")
    for name in ("target_prefix", "action_prefix"):
        prefix: str = getattr(interest, name)
        if len(prefix) > MAX_PREFIX or "\x00" in prefix:
            raise InvalidArgument(f"{name} must be at most {MAX_PREFIX} characters, none NUL")
    async with tail.subscribe(after_seq, interest) as subscription:
        asked = {
            "after_seq": after_seq,
            "target_prefix": interest.target_prefix,
            "action_prefix": interest.action_prefix,
        }
        note_read(log, caller, "audit.records.watched", "log/audit", asked)
        yield subscription.notices()
