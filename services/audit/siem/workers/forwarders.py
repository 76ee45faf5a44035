"""The SIEM workers of the audit service process: one forwarder per configured destination,
sharing one lag gauge."""

from __future__ import annotations

from collections.abc import Sequence

from runtime.db import Database
from runtime.grpc_server import Worker
from services.audit.siem.settings import Destination
from services.audit.siem.workers.forwarder import Forwarder
from services.audit.siem.workers.lag import LagBoard, register_gauge


def forwarders(db: Database, destinations: Sequence[Destination]) -> list[Worker]:
    if not destinations:
        return []
    board = LagBoard()
    register_gauge(board)
    return [Forwarder(db, destination, board).run for destination in destinations]
