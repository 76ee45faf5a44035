"""Token keys for a benchmark run: the issuer's, every process's and the benchmark's own (a
desk system's key, as a desk calling gRPC directly would hold), in a folder of the run."""

from __future__ import annotations

from pathlib import Path

from runtime import key_dir
from runtime.keys import ISSUER, SigningKey, TrustStore
from runtime.settings import AuthSettings
from runtime.token_claims import service_audience
from runtime.tokens import mint_person_token, mint_service_token

BENCH = "bench"


class BenchKeys:
    def __init__(self, folder: Path) -> None:
        key_dir.ensure(folder, (*key_dir.PROCESSES, BENCH))
        self.folder = folder
        self.auth = AuthSettings(
            TrustStore.load(folder / "trust.json"), "tradeops-dev", "tradeops", 3600
        )

    def env(self) -> dict[str, str]:
        return {key_dir.KEYS_DIR_ENV: str(self.folder)}

    def person(self, subject: str, *roles: str) -> str:
        issuer = SigningKey.load(key_dir.private_path(self.folder, ISSUER), ISSUER)
        return mint_person_token(issuer, self.auth, subject, roles)

    def service(self, peer: str, owner: str = BENCH) -> str:
        """A service token for calls to `peer`: the benchmark's own (svc:bench), or with
        `owner` a process's (svc:ops, to append events of source "ops" as ops does)."""
        key = SigningKey.load(key_dir.private_path(self.folder, owner), owner)
        audience = service_audience(self.auth, peer)
        return mint_service_token(key, owner, f"svc:{owner}", [audience])
