"""The REST routes, one module per area. PROTECTED routers need a token and an RBAC entry, and
build their routes as gateway.guard.GuardedRoute, so both are checked before a body is read."""

from __future__ import annotations

from gateway.apidocs import pages as apidocs
from gateway.routes import (
    action_work,
    actions,
    audit,
    compliance,
    exports,
    health,
    incidents,
    policies,
    probes,
    proofs,
    remediation,
    triage,
    triggers,
)

PROTECTED = (
    incidents.router,
    triage.router,
    remediation.router,
    compliance.router,
    actions.router,
    action_work.router,
    policies.router,
    audit.router,
    proofs.router,
    exports.router,
    probes.router,
    triggers.router,
)
PUBLIC = (health.router, apidocs.router)
