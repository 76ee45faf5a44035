"""The REST routes, one module per area. PROTECTED routers need a token and an RBAC entry."""

from __future__ import annotations

from gateway.routes import actions, audit, exports, health, incidents, proofs

PROTECTED = (incidents.router, actions.router, audit.router, proofs.router, exports.router)
PUBLIC = (health.router,)
