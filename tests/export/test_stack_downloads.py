"""An outside auditor downloads an evidence pack through the gateway's REST on the whole system
(the e2e stack: real processes, real PostgreSQL): every file as the signed manifest lists it,
the signature checked with openssl and the key the API publishes, each download in the audit
log under the auditor's name."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import api, auth_header, e2e_pg, eventually, otlp, stack
from tests.e2e.test_seed_flow import records_for
from tests.export.test_signed_export import OPENSSL
from tests.export.test_stack_exports import approved_action

__all__ = ["api", "auth_header", "e2e_pg", "otlp", "stack"]  # the e2e stack's fixtures, reused
Headers = Callable[..., dict[str, str]]
SIGNED = ["manifest.json", "manifest.json.sig"]


def saved(api: httpx.Client, carol: dict[str, str], export: dict[str, Any], to: Path) -> Path:
    """Every file of the export, downloaded as a person would, into `to`; the headers checked
    against the export's record."""
    files = {f["name"]: f for f in export["files"]}
    to.mkdir()
    for name in [*files, *SIGNED]:
        response = api.get(f"/exports/{export['id']}/files/{name}", headers=carol)
        assert response.status_code == 200, response.text
        assert response.headers["content-disposition"] == f'attachment; filename="{name}"'
        assert response.headers["content-length"] == str(len(response.content))
        if name in files:
            assert hashlib.sha256(response.content).hexdigest() == files[name]["sha256"]
        (to / name).write_bytes(response.content)
    return to


def test_an_auditor_downloads_an_evidence_pack_and_verifies_it_with_openssl(
    api: httpx.Client, auth_header: Headers, tmp_path: Path
) -> None:
    action_id, _, _ = approved_action(api, auth_header)
    carol = auth_header("carol", "compliance")
    body = {"kind": "evidence_pack", "parameters": {"action_id": action_id}}
    created = api.post("/exports", json=body, headers=carol, timeout=60)
    assert created.status_code == 201, created.text
    export = created.json()
    assert export["state"] == "SIGNED", export["failure_reason"]

    directory = saved(api, carol, export, tmp_path / "pack")

    manifest = (directory / "manifest.json").read_bytes()
    assert hashlib.sha256(manifest).hexdigest() == export["manifest_sha256"]
    listed = json.loads(manifest)["files"]
    assert [f["name"] for f in listed] == [f["name"] for f in export["files"]]
    keys = api.get("/exports/keys", headers=auth_header("vic", "viewer")).json()["keys"]
    key = tmp_path / "published.pem"
    key.write_text(next(k["pem"] for k in keys if k["key_id"] == export["key_id"]))
    command = OPENSSL.replace("KEY", str(key)).split()
    verified = subprocess.run(command, cwd=directory, capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    sums = "".join(f"{f['sha256']}  {f['name']}\n" for f in listed)
    checked = subprocess.run(
        ["sha256sum", "-c", "-"], cwd=directory, input=sums, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    def every_read() -> list[dict[str, Any]] | None:
        found = records_for(api, carol, f"export/{export['id']}")
        reads = [r for r in found if r["event"]["action"] == "export.file_read"]
        return reads if len(reads) == len(listed) + len(SIGNED) else None

    logged = eventually(every_read, what="each download in the audit log")
    assert {r["event"]["actor"]["subject"] for r in logged} == {"carol"}
    read = sorted(json.loads(r["event"]["payload_json"])["file"] for r in logged)
    assert read == sorted([*(f["name"] for f in listed), *SIGNED])
