from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from runtime.db import Database
from services.audit.siem.clients.syslog import StreamLink
from tests.audit.factories import events
from tests.audit.siem.certs import make_pki
from tests.audit.siem.rsyslog import receiver
from tests.audit.siem.support import (
    append,
    audit_log,
    cursor_of,
    destination,
    eventually,
    forwarding,
    records,
    start_at_head,
)
from tests.audit.siem.syslog_view import audit_fields, expected_fields, received


async def test_records_reach_rsyslog_over_mutual_tls(live_db: Database, tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    with receiver(tmp_path / "rsyslog", pki=pki, mutual=True) as syslog:
        target = destination(
            "tls",
            host="127.0.0.1",
            port=syslog.port,
            ca_file=str(pki.ca_file),
            cert_file=str(pki.client_cert),
            key_file=str(pki.client_key),
            server_name="127.0.0.1",
        )
        await start_at_head(live_db, target.name)
        async with audit_log(live_db) as log:
            seqs = await append(log, events(3))
        async with forwarding(live_db, target):

            async def confirmed() -> bool:
                return (await cursor_of(live_db, target.name)).seq == seqs[-1]

            await eventually(confirmed, "the cursor reaches the last record")
        by_seq = {int(audit_fields(m)["seq"]): m for m in received(syslog, "audit")}
        for record in await records(live_db, seqs):
            assert audit_fields(by_seq[record.seq]) == expected_fields(record)


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
