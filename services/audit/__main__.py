"""Wiring of the audit service process: it owns no outbox and calls no peers."""

from __future__ import annotations

import os
from functools import partial

from runtime.db import Database
from runtime.grpc_server import ServiceSpec, Worker
from runtime.service_main import run_service
from runtime.settings import ServiceSettings
from services.audit.checkpointing import Checkpointer
from services.audit.grpc_api import spec
from services.audit.keys import load_keyring, publish_keys
from services.audit.sequencer import Sequencer
from services.audit.service import AuditLog
from services.audit.settings import AuditSettings
from services.audit.siem.config import from_env as siem_destinations
from services.audit.siem.workers import forwarders
from services.audit.verify import run_auditor


def build(settings: ServiceSettings, db: Database) -> ServiceSpec:
    own = AuditSettings.from_env()
    keyring = load_keyring(os.environ)
    sequencer = Sequencer(db, Checkpointer(keyring, own.origin, own.cadence))
    log = AuditLog(db, sequencer, own.origin)
    workers: list[Worker] = [
        partial(publish_keys, db, keyring),
        sequencer.run,
        sequencer.run_timer,
        partial(run_auditor, log, own.verify_every_s),
        *forwarders(db, siem_destinations(os.environ)),
    ]
    return spec(log, workers)


if __name__ == "__main__":
    run_service("audit", build)
