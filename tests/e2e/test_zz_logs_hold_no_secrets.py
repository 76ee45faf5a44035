"""No token, key or secret in any log line of the whole end-to-end run: every process's log
is searched after the other e2e tests (the file is named to sort last among them) have driven
the system through every area, refusals and errors included. This test also provokes the paths
where a secret would leak: valid, forged and malformed tokens, refused and invalid requests."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx

from runtime.stack import Stack
from tests.keys import Keys

Headers = Callable[..., dict[str, str]]
JWT = re.compile(r"eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*")


def test_no_token_key_or_secret_reaches_any_log(
    api: httpx.Client,
    auth_header: Headers,
    stack: Stack,
    token_for: Callable[..., str],
    keys: Keys,
) -> None:
    # Provoke the paths where a secret could leak: refused, malformed and valid tokens.
    valid = auth_header("olga", "ops")
    api.get("/incidents", headers=valid)
    api.post("/incidents", json={"bogus": True}, headers=valid)
    api.get("/incidents", headers={"Authorization": f"Bearer {token_for('eve', 'ops')}x"})
    api.get("/incidents", headers={"Authorization": "Bearer not-a-token"})
    api.get("/audit/records", headers=auth_header("vic", "viewer"))
    secrets_known = [valid["Authorization"].split()[1]]
    key_files = [Path(stack.env[name]) for name in stack.env if name.endswith("_KEY_FILE")]
    key_files += sorted(keys.folder.rglob("*.pem"))  # every process's token key
    key_files += [Path(stack.env[name]) for name in stack.env if name.endswith("_KEYS_FILE")]
    for path in key_files:
        if path.exists():
            secrets_known += re.findall(r"[A-Za-z0-9+/=]{40,}", path.read_text())
    for log in sorted(stack.log_dir.glob("*.log")):
        text = log.read_text(errors="replace")
        assert "PRIVATE KEY" not in text, log.name
        assert not JWT.search(text), f"{log.name}: {JWT.search(text)}"
        for secret in secrets_known:
            assert secret not in text, f"{log.name} contains a secret"
