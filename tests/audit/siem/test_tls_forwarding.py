from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from runtime.db import Database
from services.audit.siem.clients.syslog import StreamLink
from tests.audit.siem.certs import make_pki
from tests.audit.siem.rsyslog import receiver
from tests.audit.siem.support import destination, three_records_arrive_over_mutual_tls


async def test_records_reach_rsyslog_over_mutual_tls(live_db: Database, tmp_path: Path) -> None:
    await three_records_arrive_over_mutual_tls(live_db, tmp_path, "tls", "127.0.0.1")


async def test_a_tls_receiver_whose_certificate_names_another_host_is_refused(
    tmp_path: Path,
) -> None:
    pki = make_pki(tmp_path)
    with receiver(tmp_path / "rsyslog", pki=pki) as syslog:
        link = StreamLink(
            destination(
                "tls",
                host="127.0.0.1",
                port=syslog.port,
                ca_file=str(pki.ca_file),
                server_name="siem.example",
            )
        )
        with pytest.raises(ssl.SSLCertVerificationError, match=r"siem\.example"):
            await link.open()
        await link.close()
