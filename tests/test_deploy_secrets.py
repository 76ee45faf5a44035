"""`tradeops deploy init DIR`: the folder docker-compose.yml and the Kubernetes Secret are made
from. Every file a service will load loads; nothing existing is replaced; a compose.env that
disagrees with the password files is refused by name. (tests/deploy starts Compose from it.)"""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
from pathlib import Path

import pytest

from gateway.console.session import Sealer, new_session
from runtime.console_settings import ConsoleSettings
from runtime.keys import ISSUER, SigningKey, TrustStore
from services import deploy
from services.audit.log.settings import keys_file
from services.cli import main
from services.export.service.signing_key import earlier_keys, load_signer

EXPECTED = {
    "keys/trust.json",
    "keys/issuer.pem",
    *(f"keys/services/{p}.pem" for p in ("agent", "ops", "export", "audit", "gateway")),
    "audit-signing-keys.json",
    "export-signing-key.pem",
    "export-verify-keys.json",
    "console-session.key",
    *(f"passwords/{p}" for p in ("postgres", "agent", "ops", "export", "audit")),
    "compose.env",
}
PUBLIC = {"keys/trust.json", "export-verify-keys.json"}


def contents(folder: Path) -> dict[str, bytes]:
    found = (p for p in folder.rglob("*") if p.is_file() and p.name != ".lock")
    return {str(p.relative_to(folder)): p.read_bytes() for p in found}


def init(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["deploy", "init", str(folder)])
    return code, capsys.readouterr().err


def test_init_makes_every_file_a_deployment_loads_private_to_its_owner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "compose"
    assert init(folder, capsys)[0] == 0

    assert set(contents(folder)) == EXPECTED
    for path in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.is_dir():
            assert mode == 0o700, path
        elif path.name != ".lock":
            assert mode == (0o644 if str(path.relative_to(folder)) in PUBLIC else 0o600), path
    trust = TrustStore.load(folder / "keys/trust.json")
    issuer = SigningKey.load(folder / "keys/issuer.pem", ISSUER)
    assert trust.owner_of(issuer.kid) is not None
    assert keys_file(folder / "audit-signing-keys.json").public_keys()
    signer = load_signer(folder / "export-signing-key.pem")
    assert [k.key_id for k in earlier_keys(folder / "export-verify-keys.json")] == [signer.key_id]
    # What the gateway's console reads: 32 random bytes as 64 hex digits.
    # Two gateway replicas reading it: a session one seals, the other opens.
    console = ConsoleSettings(session_key_file=folder / "console-session.key")
    session = new_session("a-token", "carol", frozenset({"compliance"}), 0, 60)
    assert (
        Sealer.from_settings(console).open(Sealer.from_settings(console).seal(session)) == session
    )
    env = (folder / "compose.env").read_text()
    assert f"TRADEOPS_COMPOSE_DIR={folder}\n" in env
    assert f"AUDIT_DB_PASSWORD={(folder / 'passwords/audit').read_text()}\n" in env


def test_a_second_run_keeps_everything_and_fills_in_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "compose"
    init(folder, capsys)
    before = contents(folder)
    (folder / "audit-signing-keys.json").unlink()

    assert init(folder, capsys)[0] == 0

    after = contents(folder)
    assert set(after) == EXPECTED
    assert after["audit-signing-keys.json"] != before["audit-signing-keys.json"]
    del after["audit-signing-keys.json"], before["audit-signing-keys.json"]
    assert after == before


def test_a_compose_env_that_disagrees_with_the_password_files_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "compose"
    init(folder, capsys)
    (folder / "passwords/ops").unlink()  # a new ops password; compose.env still has the old one

    code, err = init(folder, capsys)

    assert code == 2
    assert "compose.env: OPS_DB_PASSWORD" in err
    assert "remove compose.env" in err


def test_a_password_that_cannot_go_into_a_url_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "compose"
    (folder / "passwords").mkdir(parents=True)
    (folder / "passwords/agent").write_text("p@ss word")

    code, err = init(folder, capsys)

    assert code == 2
    assert "passwords/agent" in err


def test_not_root_it_prints_the_chown_that_hands_over_only_what_containers_mount(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a docker-group user sees (README: run the line it prints, not `sudo make`)."""
    folder = tmp_path / "compose"
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    code, err = init(folder, capsys)
    assert code == 0
    lines = [line for line in err.splitlines() if line.startswith("sudo chown ")]
    assert len(lines) == 1, err
    argv = shlex.split(lines[0])

    assert argv[:3] == ["sudo", "chown", "10001:10001"]
    # The files docker-compose.yml mounts (tests/test_deploy_files.py ties the two): what the
    # operator reads (compose.env, issuer.pem, the passwords) stays theirs.
    assert sorted(argv[3:]) == sorted(str(p) for p in deploy.mounted(folder))
    monkeypatch.undo()
    if os.geteuid() != 0:
        pytest.skip("running the printed chown needs root")
    subprocess.run(argv[1:], check=True)  # as root already: no sudo on a bare machine
    owners = {str(p.relative_to(folder)): p.stat().st_uid for p in folder.rglob("*")}
    handed = {str(p.relative_to(folder)) for p in deploy.mounted(folder)}
    assert {name for name, uid in owners.items() if uid == 10001} == handed
