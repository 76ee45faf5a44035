"""What the console needs from the provider's discovery document (OpenID Connect Discovery 1.0),
and the provider's JSON answers read defensively: anything but a JSON object is a provider we
cannot use, said once in the log for the operators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from gateway.console.oidc.failures import misconfigured

# In the order tried; client_secret_basic is the default when the provider lists none.
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
ID_TOKEN_ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA", "Ed25519")
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")


@dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str
    jwks: str
    auth_method: str  # how the console authenticates at the token endpoint
    algorithms: tuple[str, ...]  # what may sign ID tokens: the provider's and ours


def endpoints_of(document: dict[str, Any], issuer: str) -> Endpoints:
    # Discovery 4.3: the document must name the issuer it was fetched for.
    if document.get("issuer") != issuer:
        raise misconfigured(f"its discovery document names issuer {document.get('issuer')!r}")
    urls = [document.get(name) for name in ENDPOINTS]
    if not all(isinstance(url, str) and url for url in urls):
        raise misconfigured(f"its discovery document lacks one of {', '.join(ENDPOINTS)}")
    listed = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    method = next((m for m in AUTH_METHODS if m in listed), "")
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = tuple(a for a in ID_TOKEN_ALGORITHMS if a in offered)
    if not method or not algorithms:
        raise misconfigured("it offers no client authentication or ID token algorithm we use")
    return Endpoints(str(urls[0]), str(urls[1]), str(urls[2]), method, algorithms)


def json_object(reply: httpx.Response, what: str) -> dict[str, Any]:
    body = body_of(reply)
    if reply.status_code != 200 or not body:
        raise misconfigured(f"its {what} answered {reply.status_code} without a JSON object")
    return body


def body_of(reply: httpx.Response) -> dict[str, Any]:
    try:
        body = reply.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
