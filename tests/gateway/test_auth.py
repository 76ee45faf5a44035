from __future__ import annotations

import pytest

from runtime.keys import ISSUER, SigningKey
from runtime.settings import AuthSettings
from runtime.tokens import mint_person_token
from tests.gateway.conftest import Gateway
from tests.keys import Keys


def _foreign(settings: AuthSettings) -> str:
    """A well-formed admin token from a key nobody pinned."""
    return mint_person_token(SigningKey.generate(ISSUER), settings, "mallory", ["admin"])


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
        "foreign",
        "Basic YWxpY2U6c2VjcmV0",
        "Bearer ",
    ],
    ids=["garbage", "foreign-signature", "basic-scheme", "empty"],
)
async def test_a_request_with_a_bad_token_gets_401_and_never_reaches_a_service(
    gateway: Gateway, authorization: str, auth_settings: AuthSettings
) -> None:
    if authorization == "foreign":
        authorization = f"Bearer {_foreign(auth_settings)}"
    response = await gateway.client.post(
        "/agent/ops/actions/6a1c1b8e-0000-4000-8000-000000000001/approve",
        headers={"Authorization": authorization},
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert gateway.recorder.calls == []


async def test_an_expired_token_is_refused(gateway: Gateway, keys: Keys) -> None:
    expired = keys.token("alice", "ops", ttl_s=-120)

    response = await gateway.client.get(
        "/incidents", headers={"Authorization": f"Bearer {expired}"}
    )

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "expired" in response.json()["error"]["message"]


async def test_probes_need_no_token(gateway: Gateway) -> None:
    assert (await gateway.client.get("/healthz")).json() == {"status": "ok"}
    assert (await gateway.client.get("/readyz")).status_code == 200
