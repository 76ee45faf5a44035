"""The verifier remembers verified tokens until they expire: a remembered token still expires
on time, a refused one is never remembered, and the memory stays within its bound."""

from __future__ import annotations

import time
from typing import NoReturn

import jwt
import pytest

from runtime.auth import TokenVerifier
from runtime.errors import Unauthenticated
from runtime.keys import ISSUER, SigningKey
from runtime.settings import AuthSettings
from runtime.tokens import mint_person_token
from tests.keys import Keys


def test_a_remembered_token_is_refused_once_it_expires(
    auth_settings: AuthSettings, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    verifier = TokenVerifier(auth_settings)
    token = keys.token("alice", "ops", ttl_s=60)
    assert verifier.verify(token).subject == "alice"
    assert verifier.verify(token).subject == "alice"  # now from memory

    later = time.time() + 60 + 31  # past expiry and the 30 s leeway
    monkeypatch.setattr("runtime.auth.time.time", lambda: later)
    # PyJWT reads its own clock: the check it would make at that moment is what it says then.
    monkeypatch.setattr("runtime.token_claims.jwt.decode", _expired)

    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(token)


def _expired(*args: object, **kwargs: object) -> NoReturn:
    raise jwt.ExpiredSignatureError("Signature has expired")


def test_a_token_from_an_unpinned_key_is_refused_every_time(auth_settings: AuthSettings) -> None:
    verifier = TokenVerifier(auth_settings)
    forged = mint_person_token(SigningKey.generate(ISSUER), auth_settings, "mallory", ["admin"])

    for _ in range(2):
        with pytest.raises(Unauthenticated):
            verifier.verify(forged)


def test_the_memory_keeps_at_most_its_bound_and_still_verifies_the_rest(
    auth_settings: AuthSettings, keys: Keys
) -> None:
    verifier = TokenVerifier(auth_settings, max_cached=3)
    tokens = [keys.token(f"user-{n}", "viewer") for n in range(5)]

    subjects = [verifier.verify(token).subject for token in tokens + tokens]

    assert subjects == [f"user-{n}" for n in range(5)] * 2
    assert len(verifier._verified) <= 3
