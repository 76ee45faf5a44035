"""Wiring of the audit service process: the log (its one writer, proofs, verification, gRPC
API) and SIEM forwarding; it owns no outbox and calls no peers."""

from __future__ import annotations

import dataclasses
import os
from functools import partial

from runtime.db import Database, make_engine, session_factory
from runtime.grpc_server import ServiceSpec, Worker
from runtime.service_main import run_service
from runtime.settings import ServiceSettings
from services.audit.log.domain.checkpoints.cutting import Cadence, Checkpointer
from services.audit.log.domain.merkle.memory import TreeMemory
from services.audit.log.grpc_api.servicer import spec
from services.audit.log.repository.tail import LogSource
from services.audit.log.service.keyring import check_keyring, load_keyring
from services.audit.log.service.log import AuditLog, refusal_hook
from services.audit.log.service.sequencer import Sequencer
from services.audit.log.service.tail import Tail
from services.audit.log.settings import Settings
from services.audit.log.workers.checkpointer import run_timer
from services.audit.log.workers.gauges import LogGauges, watch_gauges
from services.audit.log.workers.tree import keep_loaded
from services.audit.log.workers.verifier import run_auditor
from services.audit.siem.settings import Settings as SiemSettings
from services.audit.siem.workers.forwarder import forwarders

WRITER_POOL_SIZE = 2  # the sequencer's commit and the checkpoint timer


def build(settings: ServiceSettings, db: Database) -> ServiceSpec:
    own = Settings.from_env()
    forwarding = SiemSettings.from_env()
    keyring = load_keyring(os.environ)
    # The one writer gets its own small pool (not traced per statement: its batches carry the
    # callers' trace ids), so it never queues behind readers who may be waiting for it.
    # Not pinged on checkout either (a round trip per commit): a broken connection fails that
    # one commit, whose callers retry, and the pool then replaces it.
    engine = make_engine(settings.database_url, pool_size=WRITER_POOL_SIZE, pre_ping=False)
    writer = Database(session_factory(engine))
    memory = TreeMemory(own.tree_memory_bytes)
    cadence = Cadence(own.checkpoint_every_records, own.checkpoint_every_ms)
    tail = Tail(LogSource(db), own.watch)
    watch_gauges(tail)
    checkpointer = Checkpointer(keyring, own.origin, cadence)
    sequencer = Sequencer(writer, checkpointer, memory=memory, grew=tail.grew)
    log = AuditLog(db, sequencer, own.origin)
    workers: list[Worker] = [
        partial(check_keyring, db, keyring),
        sequencer.run,
        partial(run_timer, sequencer),
        partial(keep_loaded, db, memory, sequencer.cache),
        partial(run_auditor, log, own.verify_every_s),
        LogGauges(db).run,
        tail.run,
        *forwarders(db, forwarding.destinations, forwarding.egress),
    ]
    served = spec(log, workers, tail)
    return dataclasses.replace(served, on_refused=refusal_hook(log, settings.refusals))


if __name__ == "__main__":
    run_service("audit", build)
