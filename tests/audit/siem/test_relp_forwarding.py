"""Forwarding over RELP to a real rsyslogd (imrelp), plain and with mutual TLS, and to a fake
receiver for the answers rsyslog does not give on request: none at all, or a refusal."""

from __future__ import annotations

import asyncio
import logging
import ssl
from pathlib import Path

import pytest

from runtime.db import Database
from services.audit.siem.clients.formats import formatter_for
from services.audit.siem.clients.relp import Refused, RelpLink
from services.audit.siem.domain.batches import Position
from tests.audit.factories import events
from tests.audit.siem.certs import make_pki
from tests.audit.siem.fake_relp import RSYSLOG_OFFERS, fake_relp
from tests.audit.siem.rsyslog import receiver
from tests.audit.siem.support import (
    append,
    audit_log,
    cursor_of,
    destination,
    eventually,
    five_records_and_their_checkpoint_forwarded,
    forwarding,
    records,
    start_at_head,
    three_records_arrive_over_mutual_tls,
)


@pytest.mark.parametrize("format", ["rfc5424", "cef"])
async def test_records_and_their_checkpoint_reach_rsyslog_over_relp_as_over_tcp(
    live_db: Database, tmp_path: Path, format: str
) -> None:
    with receiver(tmp_path / "rsyslog", relp=True) as syslog:
        target = destination("relp", host="127.0.0.1", port=syslog.port, format=format)
        seqs, _ = await five_records_and_their_checkpoint_forwarded(live_db, target)
        sent = [formatter_for(target).record(r).decode() for r in await records(live_db, seqs)]
        raw = [message["rawmsg"] for message in syslog.messages()]
        assert raw[: len(sent)] == sent, "every record, byte for byte, in order"
        assert [m["inputname"] for m in syslog.messages()] == ["imrelp"] * (len(seqs) + 1)
    assert len(raw) == len(seqs) + 1, "and the checkpoint after them"


async def test_records_reach_rsyslog_over_relp_with_mutual_tls(
    live_db: Database, tmp_path: Path
) -> None:
    await three_records_arrive_over_mutual_tls(live_db, tmp_path, "relp+tls", "localhost")


async def test_a_relp_receiver_that_wants_a_client_certificate_refuses_a_link_without_one(
    tmp_path: Path,
) -> None:
    pki = make_pki(tmp_path)
    with receiver(tmp_path / "rsyslog", relp=True, pki=pki, mutual=True) as syslog:
        link = RelpLink(
            destination("relp+tls", host="127.0.0.1", port=syslog.port, ca_file=str(pki.ca_file))
        )
        # TLS 1.3 ends the client's handshake before the server checks: the refusal comes as
        # an alert, a reset, a broken pipe or silence, depending on what the client does first.
        with pytest.raises((ssl.SSLError, ConnectionError, TimeoutError)):
            await link.open()
        await link.close()
    log = (tmp_path / "rsyslog" / "rsyslogd.log").read_text()
    assert "peer did not return a certificate" in log


async def test_a_relp_receiver_whose_certificate_names_another_host_is_refused(
    tmp_path: Path,
) -> None:
    pki = make_pki(tmp_path)
    with receiver(tmp_path / "rsyslog", relp=True, pki=pki) as syslog:
        options = {"ca_file": str(pki.ca_file), "server_name": "siem.example"}
        link = RelpLink(destination("relp+tls", host="127.0.0.1", port=syslog.port, **options))
        with pytest.raises(ssl.SSLCertVerificationError, match=r"siem\.example"):
            await link.open()
        await link.close()


async def test_a_receiver_that_never_acknowledges_never_moves_the_cursor(
    live_db: Database,
) -> None:
    async with fake_relp(syslog_answer=None) as fake:
        target = destination("relp", host="127.0.0.1", port=fake.port, timeout_s=0.5)
        start = await start_at_head(live_db, target.name)
        async with audit_log(live_db, every_records=1000) as log:
            seqs = await append(log, events(5))
        sent = {formatter_for(target).record(r) for r in await records(live_db, seqs)}
        async with forwarding(live_db, target):

            async def sent_again() -> bool:
                return fake.connections >= 3

            await eventually(sent_again, "the link gives up on the silent receiver, twice")
            assert await cursor_of(live_db, target.name) == start
        assert await cursor_of(live_db, target.name) == start
    assert sent <= set(fake.messages), "every record reached the receiver"
    assert len(fake.messages) >= 2 * len(sent), "and was sent again on the next connection"


async def test_an_answer_other_than_200_stops_and_says_what_the_receiver_said(
    live_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async with fake_relp(syslog_answer=b"500 disk full") as fake:
        target = destination("relp", host="127.0.0.1", port=fake.port)
        start = await start_at_head(live_db, target.name)
        async with audit_log(live_db, every_records=1000) as log:
            await append(log, events(3))
        with caplog.at_level(logging.WARNING, "services.audit.siem.workers.forwarder"):
            async with forwarding(live_db, target):

                async def reported() -> bool:
                    return "refused frame 2: 500 disk full" in caplog.text

                await eventually(reported, "the refusal is logged with the receiver's words")
        assert await cursor_of(live_db, target.name) == start
    assert f"siem {target.name}: {target.name}: the receiver refused frame 2" in caplog.text


async def test_a_receiver_that_does_not_offer_the_syslog_command_is_refused_at_open() -> None:
    async with fake_relp(offers=RSYSLOG_OFFERS + b"commands=eventlog") as fake:
        link = RelpLink(destination("relp", host="127.0.0.1", port=fake.port))
        with pytest.raises(Refused, match="cannot take syslog over RELP: commands 'eventlog'"):
            await link.open()
        await link.close()
    assert fake.messages == []


async def test_a_clean_close_is_answered_before_the_socket_closes(tmp_path: Path) -> None:
    with receiver(tmp_path / "rsyslog", relp=True) as syslog:
        link = RelpLink(destination("relp", host="127.0.0.1", port=syslog.port))
        await link.open()
        await link.send([b"<110>1 2024-05-01T12:00:00Z h app - audit - bye"], [Position(0, 0)])
        await asyncio.sleep(0.2)
        assert link.confirmed() == Position(0, 0)
        await link.close()
    log = (tmp_path / "rsyslog" / "rsyslogd.log").read_text()
    assert "error" not in log.lower(), log
