from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import timedelta, timezone

from services.audit.log.domain.records import (
    GENESIS,
    Actor,
    Head,
    canonical_record,
    payload_sha256,
    record_hash,
    seal,
    sequence,
)
from services.audit.log.domain.verification import verify
from tests.audit.factories import MOMENT, event, events

EVENT_ID = "0b7e9a52-3c1d-4a8e-9f7b-2d6c5e4f3a10"


def test_the_canonical_encoding_is_sorted_compact_utf8_json_of_the_specified_fields() -> None:
    subject = dataclasses.replace(
        event(event_id=EVENT_ID, target="desk/zürich", payload_json='{"b":1}'),
        actor=Actor("renée", ("trader", "ops"), "person", "", "fx"),
    )

    encoded = canonical_record(7, subject, payload_sha256('{"b":1}'), GENESIS)
    digest = hashlib.sha256(b'{"b":1}').hexdigest()

    assert encoded == (
        '{"action":"ops.action.approved","actor":{"desk":"fx","kind":"person",'
        '"logic_version":"","roles":["trader","ops"],"subject":"renée"},'
        f'"event_id":"{EVENT_ID}","occurred_at":"2024-05-01T12:30:45.123456Z",'
        '"outcome":"success",'
        f'"payload_sha256":"{digest}",'
        f'"prev_hash":"{GENESIS}","seq":7,"source":"ops","target":"desk/zürich","trace_id":""}}'
    )


def test_the_canonical_encoding_does_not_depend_on_the_order_keys_were_written() -> None:
    subject = event(event_id=EVENT_ID)
    fields = json.loads(canonical_record(3, subject, "a" * 64, "b" * 64))
    reversed_fields = dict(reversed(list(fields.items())))
    reversed_fields["actor"] = dict(reversed(list(fields["actor"].items())))

    rewritten = json.dumps(reversed_fields, sort_keys=True, separators=(",", ":"))

    assert rewritten == canonical_record(3, subject, "a" * 64, "b" * 64)


def test_the_leaf_hash_is_the_rfc6962_leaf_hash_of_the_canonical_utf8_bytes() -> None:
    subject = event(event_id=EVENT_ID, target="desk/zürich")
    encoded = canonical_record(0, subject, "c" * 64, GENESIS).encode("utf-8")

    expected = hashlib.sha256(b"\x00" + encoded).hexdigest()
    assert record_hash(0, subject, "c" * 64, GENESIS) == expected


def test_occurred_at_is_rendered_in_utc_with_microseconds_whatever_its_zone() -> None:
    new_york = timezone(timedelta(hours=-4))
    on_the_hour = dataclasses.replace(event(), occurred_at=MOMENT.replace(microsecond=0))
    elsewhere = dataclasses.replace(
        on_the_hour, occurred_at=on_the_hour.occurred_at.astimezone(new_york)
    )

    assert '"occurred_at":"2024-05-01T12:30:45.000000Z"' in canonical_record(
        0, elsewhere, "c" * 64, GENESIS
    )
    assert record_hash(0, elsewhere, "c" * 64, GENESIS) == record_hash(
        0, on_the_hour, "c" * 64, GENESIS
    )


def test_the_payload_hash_covers_the_payload_bytes_as_sent() -> None:
    assert payload_sha256('{"a": 1}') != payload_sha256('{"a":1}')
    assert payload_sha256("{}") == hashlib.sha256(b"{}").hexdigest()


def test_sequencing_continues_from_the_head_and_links_each_record_to_the_previous() -> None:
    batch = sequence(Head(5, "f" * 64), events(3), {})

    assert [r.seq for r in batch.records] == [5, 6, 7]
    assert batch.records[0].prev_hash == "f" * 64
    assert [r.prev_hash for r in batch.records[1:]] == [r.leaf_hash for r in batch.records[:-1]]
    assert batch.head == Head(8, batch.records[-1].leaf_hash)


def test_a_chain_built_from_genesis_verifies() -> None:
    batch = sequence(Head(0, GENESIS), events(4), {})

    verdict = verify(batch.records, batch.head)

    assert (verdict.ok, verdict.checked, verdict.first_bad_seq, verdict.reason) == (True, 4, -1, "")


def test_a_missing_seq_is_named() -> None:
    records = sequence(Head(0, GENESIS), events(4), {}).records

    verdict = verify([records[0], records[1], records[3]])

    assert (verdict.ok, verdict.first_bad_seq) == (False, 2)
    assert "seq 2 is missing" in verdict.reason


def test_a_record_that_does_not_link_to_its_predecessor_is_named() -> None:
    records = sequence(Head(0, GENESIS), events(3), {}).records
    relinked = seal(2, records[2].event, "e" * 64)

    verdict = verify([records[0], records[1], relinked])

    assert (verdict.ok, verdict.first_bad_seq, verdict.checked) == (False, 2, 3)
    assert "prev_hash" in verdict.reason


def test_an_edited_record_is_named_as_a_hash_mismatch() -> None:
    records = sequence(Head(0, GENESIS), events(3), {}).records
    edited = dataclasses.replace(
        records[1], event=dataclasses.replace(records[1].event, action="ops.action.rejected")
    )

    verdict = verify([records[0], edited, records[2]])

    assert (verdict.ok, verdict.first_bad_seq) == (False, 1)
    assert "hash does not match" in verdict.reason


def test_a_log_shorter_than_its_head_fails_at_the_first_missing_seq() -> None:
    batch = sequence(Head(0, GENESIS), events(3), {})

    verdict = verify(batch.records[:2], batch.head)

    assert (verdict.ok, verdict.first_bad_seq) == (False, 2)
    assert "head records size 3" in verdict.reason
