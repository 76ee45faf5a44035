from __future__ import annotations

import pytest

from runtime.auth import mint_token
from runtime.settings import AuthSettings
from tests.gateway.conftest import Gateway

OTHER_ISSUER = AuthSettings(
    secret="another-secret-that-this-gateway-does-not-trust-01",
    issuer="tradeops-dev",
    audience="tradeops",
    token_ttl_s=3600,
)


async def test_a_request_without_a_token_gets_401_with_a_bearer_challenge(
    gateway: Gateway,
) -> None:
    response = await gateway.client.get("/incidents")

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json() == {
        "error": {"code": "UNAUTHENTICATED", "message": "missing bearer token"}
    }
    assert gateway.recorder.calls == []


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer not-a-jwt",
        f"Bearer {mint_token(OTHER_ISSUER, 'mallory', ['admin'])}",
        "Basic YWxpY2U6c2VjcmV0",
        "Bearer ",
    ],
    ids=["garbage", "foreign-signature", "basic-scheme", "empty"],
)
async def test_a_request_with_a_bad_token_gets_401_and_never_reaches_a_service(
    gateway: Gateway, authorization: str
) -> None:
    response = await gateway.client.post(
        "/agent/ops/actions/6a1c1b8e-0000-4000-8000-000000000001/approve",
        headers={"Authorization": authorization},
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert gateway.recorder.calls == []


async def test_an_expired_token_is_refused(gateway: Gateway, auth_settings: AuthSettings) -> None:
    expired = mint_token(auth_settings, "alice", ["ops"], ttl_s=-120)

    response = await gateway.client.get(
        "/incidents", headers={"Authorization": f"Bearer {expired}"}
    )

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "expired" in response.json()["error"]["message"]


async def test_probes_need_no_token(gateway: Gateway) -> None:
    assert (await gateway.client.get("/healthz")).json() == {"status": "ok"}
    assert (await gateway.client.get("/readyz")).status_code == 200
