"""The scheduled auditor: verifies the whole log every interval_s seconds."""

from __future__ import annotations

import asyncio
import logging

from services.audit.log.service.log import AuditLog
from services.audit.log.service.verification import AUDITOR, verify_log

log = logging.getLogger(__name__)


async def run_auditor(audit: AuditLog, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            await verify_log(audit, caller=AUDITOR)
        except Exception:
            log.exception("scheduled verification could not run")
