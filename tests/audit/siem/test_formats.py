from __future__ import annotations

import json

from services.audit.siem.clients.formats import formatter_for
from services.audit.siem.clients.syslog import frame
from services.audit.siem.domain.formats import cef, hec, rfc5424
from services.audit.siem.settings import Destination
from tests.audit.siem.samples import CHECKPOINT, EVENT, LEAF, RECORD, record_with

HOST = "host-1"
SD = (
    '[tradeops@32473 seq="42" event_id="6d3c1b0e-4a8f-4b1e-9c1d-2f6a7b8c9d0e" actor="alice"'
    ' actor_kind="person" action="ops.action.approved" target="action/7" outcome="success"'
    f' trace_id="4bf92f3577b34da6a3ce929d0e0e4736" source="ops" leaf_hash="{LEAF}"]'
)


def test_a_record_becomes_an_rfc5424_message_with_the_audit_fields_as_structured_data() -> None:
    message = rfc5424.record_message(RECORD, hostname=HOST, facility=13)

    assert (
        message
        == (
            "<110>1 2024-05-01T12:30:45.123456Z host-1 tradeops-audit - audit "
            f"{SD} alice ops.action.approved action/7: success"
        ).encode()
    )


def test_a_checkpoint_message_carries_the_signed_note_on_one_line() -> None:
    message = rfc5424.checkpoint_message(CHECKPOINT, hostname=HOST, facility=13)

    assert (
        message
        == (
            "<110>1 2024-05-01T13:00:00.000000Z host-1 tradeops-audit - checkpoint "
            f'[tradeops@32473 tree_size="43" root_hash="{"ab" * 32}" key_id="0a0b0c0d"] '
            "tradeops.example/audit\\n43\\nq83vEjRWeJCrze8SNFZ4kA==\\n\\n"
            "\u2014 tradeops.example/audit AbCd\\n"
        ).encode()
    )


def test_quotes_backslashes_and_closing_brackets_in_values_are_escaped() -> None:
    message = rfc5424.record_message(
        record_with(target='desk "fx]\\eu [x=1]'), hostname=HOST, facility=13
    )

    assert b' target="desk \\"fx\\]\\\\eu [x=1\\]" ' in message
    assert rfc5424.escape_param('a"b\\c]d') == 'a\\"b\\\\c\\]d'


def test_the_severity_follows_the_outcome_and_the_facility_is_configurable() -> None:
    def pri(outcome: str, facility: int = 13) -> bytes:
        message = rfc5424.record_message(
            record_with(outcome=outcome), hostname=HOST, facility=facility
        )
        return message.split(b"1 ", 1)[0]

    assert pri("success") == b"<110>"  # log audit (13) * 8 + info (6)
    assert pri("denied") == b"<108>"  # warning
    assert pri("failure") == b"<107>"  # error
    assert pri("success", facility=4) == b"<38>"  # auth


def test_octet_counting_frames_count_bytes_not_characters() -> None:
    assert frame(b"abc") == b"3 abc"
    assert frame("\u00e9".encode()) == b"2 \xc3\xa9"


def test_a_record_becomes_a_cef_line() -> None:
    assert cef.record_line(RECORD) == (
        "CEF:0|tradeops|audit|1.0|ops.action.approved|ops.action.approved success|3|"
        "rt=1714566645123 externalId=6d3c1b0e-4a8f-4b1e-9c1d-2f6a7b8c9d0e suser=alice"
        " act=ops.action.approved outcome=success cs1=42 cs1Label=seq cs2=person"
        " cs2Label=actorKind cs3=action/7 cs3Label=target"
        " cs4=4bf92f3577b34da6a3ce929d0e0e4736 cs4Label=traceId"
        f" cs5={LEAF} cs5Label=leafHash cs6=ops cs6Label=source"
        " msg=alice ops.action.approved action/7: success"
    )


def test_cef_escapes_pipes_in_the_header_and_equals_signs_in_the_extension() -> None:
    line = cef.record_line(record_with(action="ops|x\\y", outcome="denied", target="a=b\nc|d"))

    header, extension = line.split("|6|", 1)
    assert header == "CEF:0|tradeops|audit|1.0|ops\\|x\\\\y|ops\\|x\\\\y denied"
    assert " act=ops|x\\\\y " in extension
    assert " cs3=a\\=b\\nc|d " in extension


def test_a_checkpoint_becomes_a_cef_line_with_its_note() -> None:
    assert cef.checkpoint_line(CHECKPOINT) == (
        "CEF:0|tradeops|audit|1.0|audit.checkpoint|signed checkpoint|3|rt=1714568400000"
        f" cs1=43 cs1Label=treeSize cs2={'ab' * 32} cs2Label=rootHash cs3=0a0b0c0d"
        " cs3Label=keyId msg=tradeops.example/audit\\n43\\nq83vEjRWeJCrze8SNFZ4kA\\=\\=\\n\\n"
        "\u2014 tradeops.example/audit AbCd\\n"
    )


def test_cef_goes_over_syslog_as_the_message_of_an_rfc5424_frame() -> None:
    destination = Destination("soc", "tcp", "cef", host="h", port=1, hostname=HOST)

    message = formatter_for(destination).record(RECORD)

    prefix = b"<110>1 2024-05-01T12:30:45.123456Z host-1 tradeops-audit - audit - "
    assert message == prefix + cef.record_line(RECORD).encode()


def test_a_record_becomes_a_splunk_hec_event() -> None:
    actor = '{"subject":"alice","roles":["ops"],"kind":"person","logic_version":"","desk":"fx"}'
    assert (
        hec.record_event(RECORD, hostname=HOST)
        == (
            '{"time":1714566645.123456,"host":"host-1","source":"tradeops-audit",'
            '"sourcetype":"tradeops:audit","event":{"kind":"record","seq":42,'
            f'"event_id":"{EVENT.event_id}","occurred_at":"2024-05-01T12:30:45.123456Z",'
            f'"actor":{actor},"action":"ops.action.approved","target":"action/7",'
            '"outcome":"success","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","source":"ops",'
            f'"payload_sha256":"{"a1" * 32}","prev_hash":"{"0" * 64}","leaf_hash":"{LEAF}"}}}}'
        ).encode()
    )


def test_a_checkpoint_becomes_a_hec_event_with_the_exact_note() -> None:
    event = json.loads(hec.checkpoint_event(CHECKPOINT, hostname=HOST))

    assert event["time"] == 1714568400.0
    assert event["event"] == {
        "kind": "checkpoint",
        "tree_size": 43,
        "root_hash": "ab" * 32,
        "key_id": "0a0b0c0d",
        "created_at": "2024-05-01T13:00:00.000000Z",
        "note": CHECKPOINT.note,
    }
