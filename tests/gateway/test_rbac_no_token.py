"""The REST matrix's last column: every protected route, called with no token or with a token
that fails verification, answers 401 with a Bearer challenge and calls no service."""

from __future__ import annotations

from gateway.rbac import PUBLIC
from tests.gateway.conftest import Gateway
from tests.gateway.test_rbac import call, openapi_routes


async def test_every_protected_route_refuses_a_missing_or_bad_token(gateway: Gateway) -> None:
    forged = gateway.auth("admin")["Authorization"] + "x"
    for method, path in sorted(openapi_routes(gateway) - PUBLIC):
        for headers in ({}, {"Authorization": forged}, {"Authorization": "Basic YTpi"}):
            response = await call(gateway, method, path, headers)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.headers["www-authenticate"].startswith("Bearer")
    assert gateway.recorder.calls == []
