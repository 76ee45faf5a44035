"""The relay's claim is sent in requests audit accepts: in order, each within the byte budget."""

from __future__ import annotations

from runtime.message_limits import grpc_message_limit
from runtime.relay import BATCH, SEND_BYTES, requests
from tradeops.audit.v1 import audit_service_pb2 as audit_pb


def event(index: int, payload_bytes: int = 100) -> audit_pb.AuditEvent:
    return audit_pb.AuditEvent(
        event_id=f"00000000-0000-4000-8000-{index:012d}",
        action="agent.triage.decided",
        target=f"decision/{index}",
        payload_json="x" * payload_bytes,
    )


def test_a_batch_of_small_events_is_one_request() -> None:
    events = [event(i) for i in range(BATCH)]
    sent = requests(events)
    assert len(sent) == 1
    assert list(sent[0].events) == events


def test_large_events_are_cut_into_requests_within_the_budget_in_order() -> None:
    events = [event(i, 10_000) for i in range(50)]
    sent = requests(events, limit=40_000)
    assert [e.event_id for r in sent for e in r.events] == [e.event_id for e in events]
    assert len(sent) > 1
    assert all(r.ByteSize() <= 40_000 for r in sent)


def test_an_event_larger_than_the_budget_goes_alone() -> None:
    events = [event(0), event(1, 50_000), event(2)]
    sent = requests(events, limit=20_000)
    assert [[e.event_id for e in r.events] for r in sent] == [
        [events[0].event_id],
        [events[1].event_id],
        [events[2].event_id],
    ]


def test_the_budget_fits_what_audit_accepts() -> None:
    assert grpc_message_limit("audit", {}) > SEND_BYTES
