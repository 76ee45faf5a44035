"""Wiring of the audit service process: it owns no outbox and calls no peers."""

from __future__ import annotations

from runtime.db import Database
from runtime.grpc_server import ServiceSpec
from runtime.service_main import run_service
from runtime.settings import ServiceSettings
from services.audit.grpc_api import spec


def build(settings: ServiceSettings, db: Database) -> ServiceSpec:
    return spec(db)


if __name__ == "__main__":
    run_service("audit", build)
