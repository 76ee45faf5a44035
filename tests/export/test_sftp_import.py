"""asyncssh's import and cryptography's DSA deprecation: the one warning silenced, and only there.

Each check runs a fresh interpreter with every warning an error, as pytest's settings make it."""

from __future__ import annotations

import subprocess
import sys


def run_with_warnings_as_errors(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_asyncssh_alone_still_warns_so_the_filter_is_still_needed() -> None:
    # When a release of asyncssh stops naming DSA at import, this fails: drop the filter then.
    done = run_with_warnings_as_errors("import asyncssh")

    assert done.returncode != 0
    assert "DSA is deprecated" in done.stderr


def test_the_sftp_destination_imports_with_every_warning_an_error() -> None:
    done = run_with_warnings_as_errors("import services.export.clients.destinations.sftp")

    assert done.returncode == 0, done.stderr


def test_dsa_used_by_anyone_else_still_warns() -> None:
    done = run_with_warnings_as_errors(
        "import services.export.clients.destinations.sftp\n"
        "from cryptography.hazmat.primitives.asymmetric import dsa\n"
        "dsa.DSAPrivateKey\n"
    )

    assert done.returncode != 0
    assert "CryptographyDeprecationWarning: DSA is deprecated" in done.stderr
