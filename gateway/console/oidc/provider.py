"""The identity provider as the console, its OpenID Connect client, sees it: the discovery
document (fetched on first use, kept for DISCOVERY_MAX_AGE_S), the authorization request, the
code exchange and the ID token's checks.

The protocol is Authlib's: the authorization request with PKCE S256 (rfc6749, rfc7636), the
client's authentication at the token endpoint, the ID token's claims (issuer, audience, expiry,
nonce, at_hash, azp: oidc.core.CodeIDToken) and its signature against the provider's JWKS
through joserfc, as Authlib's own clients check it. The HTTP is ours: every request goes to an
address the egress policy checked and follows no redirect (runtime/pinning.py), which Authlib's
httpx integration cannot be told to do (and which, on httpx rather than httpx2, is deprecated)."""

from __future__ import annotations

import logging
import time
from typing import Any, cast

import httpx
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.client import DEFAULT_HEADERS
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, KeySetSerialization

from gateway.console.oidc.discovery import Endpoints, body_of, endpoints_of, json_object
from gateway.console.oidc.failures import SignInFailed, misconfigured
from gateway.console.oidc.flow import Flow
from runtime.console_settings import ConsoleSettings
from runtime.egress import Refused, Unresolvable
from runtime.jwks import LEEWAY_S
from runtime.pinning import send
from runtime.settings import OidcSettings

log = logging.getLogger(__name__)
DISCOVERY_MAX_AGE_S = 3600.0
TIMEOUT_S = 5.0


class IdentityProvider:
    def __init__(self, oidc: OidcSettings, console: ConsoleSettings) -> None:
        self._oidc, self._console = oidc, console
        self._endpoints: tuple[Endpoints, float] | None = None

    async def authorization_url(self, flow: Flow) -> str:
        url: str = prepare_grant_uri(
            (await self.endpoints()).authorization,
            client_id=self._console.oidc_client_id,
            response_type="code",
            redirect_uri=flow.redirect_uri,
            scope=self._console.oidc_scope,
            state=flow.state,
            nonce=flow.nonce,
            code_challenge=create_s256_code_challenge(flow.verifier),
            code_challenge_method="S256",
        )
        return url

    async def exchange(self, code: str, flow: Flow) -> str:
        """The access token the code stands for, once the ID token that came with it holds."""
        endpoints = await self.endpoints()
        body = prepare_token_request(
            "authorization_code",
            code=code,
            redirect_uri=flow.redirect_uri,
            code_verifier=flow.verifier,
        )
        auth = ClientAuth(self._console.oidc_client_id, self._secret(), endpoints.auth_method)
        url, headers, body = auth.prepare("POST", endpoints.token, dict(DEFAULT_HEADERS), body)
        tokens = _tokens(await self._fetch("POST", url, headers=headers, content=body))
        await self._check_id_token(tokens, flow.nonce, endpoints)
        return str(tokens["access_token"])

    async def endpoints(self) -> Endpoints:
        if self._endpoints is None or time.monotonic() > self._endpoints[1]:
            url = self._oidc.issuer.rstrip("/") + "/.well-known/openid-configuration"
            document = json_object(await self._fetch("GET", url), "discovery document")
            found = endpoints_of(document, self._oidc.issuer)
            self._endpoints = (found, time.monotonic() + DISCOVERY_MAX_AGE_S)
        return self._endpoints[0]

    async def _check_id_token(
        self, tokens: dict[str, Any], nonce: str, endpoints: Endpoints
    ) -> None:
        # Fetched for each sign-in (people sign in rarely): a rotated key is always known.
        keys = json_object(await self._fetch("GET", endpoints.jwks), "key set")
        client_id = self._console.oidc_client_id
        options = {
            "iss": {"essential": True, "value": self._oidc.issuer},
            "aud": {"essential": True, "value": client_id},
        }
        # at_hash, when the provider sends it, binds the ID token to the access token beside it.
        params = {"nonce": nonce, "client_id": client_id, "access_token": tokens["access_token"]}
        try:
            key_set = KeySet.import_key_set(cast(KeySetSerialization, keys))
            token = jwt.decode(tokens["id_token"], key_set, list(endpoints.algorithms))
            CodeIDToken(token.claims, token.header, options, params).validate(leeway=LEEWAY_S)
        except (JoseError, ValueError) as exc:
            raise SignInFailed(
                401, "ID_TOKEN_REFUSED", f"the ID token was refused: {exc}"
            ) from None

    def _secret(self) -> str:
        path = self._console.oidc_client_secret_file
        try:
            secret = path.read_text().strip() if path is not None else ""
        except OSError as exc:
            log.error("TRADEOPS_CONSOLE_OIDC_CLIENT_SECRET_FILE: %s", exc)
            secret = ""
        if not secret:
            raise SignInFailed(500, "CONSOLE_MISCONFIGURED", "the console has no client secret")
        return secret

    async def _fetch(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
            request = client.build_request(method, url, **kwargs)
            try:
                return await send(client, self._oidc.egress, request)
            except Refused as exc:
                raise misconfigured(f"{exc}: nothing was sent to it") from None
            except (httpx.HTTPError, Unresolvable) as exc:
                log.warning("identity provider: %s %s failed: %s", method, url, exc)
        raise SignInFailed(502, "IDP_UNAVAILABLE", "the identity provider could not be reached")


def _tokens(reply: httpx.Response) -> dict[str, Any]:
    """The token response's fields, or why the provider refused (RFC 6749 5.2's error code)."""
    if reply.status_code >= 500:
        raise SignInFailed(502, "IDP_UNAVAILABLE", "the identity provider failed")
    body = body_of(reply)
    if reply.status_code != 200:
        error = str(body.get("error", reply.status_code))[:100]
        raise SignInFailed(401, "IDP_REFUSED", f"the identity provider refused the code ({error})")
    access, id_token, kind = (body.get(k) for k in ("access_token", "id_token", "token_type"))
    if (
        not isinstance(access, str)
        or not isinstance(id_token, str)
        or str(kind).lower() != "bearer"
    ):
        raise SignInFailed(401, "IDP_REFUSED", "the identity provider sent no bearer or ID token")
    return body
