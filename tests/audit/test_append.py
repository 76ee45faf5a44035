from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace

import pytest
from psycopg.errors import UniqueViolation

from runtime.db import Database
from runtime.errors import InvalidArgument
from services.audit.log.domain.records import GENESIS, Actor, AppendResult
from services.audit.log.service.log import AuditLog, append
from services.audit.log.service.reading import list_records, stream
from services.audit.log.service.verification import verify_log
from tests.audit.conftest import tamper
from tests.audit.factories import COMPLIANCE_OFFICER, READER, event, events


async def test_seqs_are_gapless_from_zero_and_each_record_links_to_the_previous(
    empty_log: AuditLog,
) -> None:
    first = await append(empty_log, events(3))
    second = await append(empty_log, events(2))

    page = await list_records(empty_log, caller=READER, after_seq=-1, limit=10)
    assert [r.seq for r in first + second] == [0, 1, 2, 3, 4]
    assert [r.seq for r in page.records] == [0, 1, 2, 3, 4]
    assert page.records[0].prev_hash == GENESIS
    assert [r.prev_hash for r in page.records[1:]] == [r.leaf_hash for r in page.records[:-1]]


async def test_a_stored_record_keeps_the_event_exactly_as_appended(empty_log: AuditLog) -> None:
    sent = event(target="desk/zürich", payload_json='{"qty": 5, "note": "naïve"}')
    await append(empty_log, [sent])

    stored = (await list_records(empty_log, caller=READER, after_seq=-1, limit=1)).records[0]

    assert stored.event == sent
    assert stored.recorded_at is not None


async def test_text_with_tabs_newlines_and_backslashes_is_stored_exactly_as_appended(
    empty_log: AuditLog,
) -> None:
    # The sequencer writes with COPY's text format, where these characters are syntax.
    odd = "a\tb\nc\rd\\e \\N \\. \\x00"
    shouted = Actor(f"user {odd}", ("ops", odd), "person", odd, odd)
    sent = [
        replace(
            event(target=odd, payload_json='{"q":\t"\\\\N\\n\\t",\n"r": "\\\\."}'), actor=shouted
        ),
        replace(event(action=f"ops.{odd}"), trace_id=odd, source=odd, outcome=odd),
        event(),
    ]
    await append(empty_log, sent)

    stored = (await list_records(empty_log, caller=READER, after_seq=-1, limit=10)).records

    assert [r.event for r in stored[:3]] == sent
    assert (await verify_log(empty_log, caller=COMPLIANCE_OFFICER)).ok


async def test_an_event_appended_twice_is_stored_once_and_reported_with_its_original_seq(
    empty_log: AuditLog,
) -> None:
    original, other, later = event(), event(), event()
    await append(empty_log, [original, other])

    results = await append(empty_log, [later, original])

    assert [(r.event_id, r.seq, r.duplicate) for r in results] == [
        (later.event_id, 2, False),
        (original.event_id, 0, True),
    ]
    assert (await list_records(empty_log, caller=READER, after_seq=-1, limit=10)).log_size == 3


async def test_a_repeat_inside_one_batch_is_stored_once(empty_log: AuditLog) -> None:
    repeated, other = event(), event()
    shouted = event(event_id=repeated.event_id.upper())

    results = await append(empty_log, [repeated, other, shouted])

    assert [(r.seq, r.duplicate) for r in results] == [(0, False), (1, False), (0, True)]
    assert results[2].event_id == repeated.event_id
    assert (await list_records(empty_log, caller=READER, after_seq=-1, limit=10)).log_size == 2


async def test_an_invalid_event_in_a_batch_writes_nothing(empty_log: AuditLog) -> None:
    await append(empty_log, events(2))

    with pytest.raises(InvalidArgument, match="not a UUID"):
        await append(empty_log, [event(), event(event_id="42"), event()])

    page = await list_records(empty_log, caller=READER, after_seq=-1, limit=10)
    assert (page.log_size, len(page.records)) == (2, 2)


async def test_records_are_listed_in_pages_after_a_cursor(empty_log: AuditLog) -> None:
    await append(empty_log, events(5))

    first = await list_records(empty_log, caller=READER, after_seq=-1, limit=2)
    second = await list_records(empty_log, caller=READER, after_seq=first.last_seq, limit=2)
    third = await list_records(empty_log, caller=READER, after_seq=second.last_seq, limit=2)
    past_the_end = await list_records(empty_log, caller=READER, after_seq=third.last_seq, limit=2)

    # Each read is itself audited: the first read landed at seq 5, right after the events.
    assert [[r.seq for r in p.records] for p in (first, second, third)] == [[0, 1], [2, 3], [4, 5]]
    assert [r.event.action for r in third.records] == ["ops.action.approved", "audit.records.read"]
    assert past_the_end.records[0].event.action == "audit.records.read"
    assert past_the_end.log_size == 8


async def test_listing_can_be_narrowed_to_one_target(empty_log: AuditLog) -> None:
    await append(empty_log, [event(target="action/1"), event(target="action/2")])
    await append(empty_log, [event(target="action/1")])

    page = await list_records(empty_log, caller=READER, after_seq=-1, limit=10, target="action/1")

    assert [r.seq for r in page.records] == [0, 2]


async def test_a_page_holds_50_by_default_and_never_more_than_500(empty_log: AuditLog) -> None:
    await append(empty_log, events(600))

    default = await list_records(empty_log, caller=READER, after_seq=-1, limit=0)
    greedy = await list_records(empty_log, caller=READER, after_seq=-1, limit=10_000)

    assert (len(default.records), len(greedy.records), greedy.log_size) == (50, 500, 601)


async def test_a_negative_cursor_other_than_minus_one_is_refused(empty_log: AuditLog) -> None:
    with pytest.raises(InvalidArgument):
        await list_records(empty_log, caller=READER, after_seq=-2, limit=10)


async def test_streaming_returns_the_inclusive_range_across_pages(empty_log: AuditLog) -> None:
    await append(empty_log, events(600))

    middle = [r.seq async for r in stream(empty_log, caller=READER, from_seq=2, to_seq=4)]
    to_the_end = [r async for r in stream(empty_log, caller=READER, from_seq=0, to_seq=-1)]

    assert middle == [2, 3, 4]
    # The log at the time of the call: 600 events, then the first stream's own audit event.
    assert [r.seq for r in to_the_end] == list(range(601))
    assert to_the_end[600].event.action == "audit.records.streamed"
    assert to_the_end[600].event.actor.subject == READER.subject


async def test_events_repeated_across_groups_sealed_ahead_are_stored_once_in_a_gapless_chain(
    empty_log: AuditLog,
) -> None:
    # Many callers at once: the sequencer seals each group while the previous one commits, so
    # an id repeated from the group in flight must still come back as that group's duplicate.
    batches = [events(40) for _ in range(12)]
    for earlier, later in itertools.pairwise(batches):
        later[0] = earlier[-1]

    async def staggered(index: int) -> list[AppendResult]:
        await asyncio.sleep(index * 0.004)  # several groups, not one
        return await append(empty_log, batches[index])

    answered = await asyncio.gather(*(staggered(index) for index in range(12)))

    stored = {r.event_id: r.seq for results in answered for r in results if not r.duplicate}
    repeats = [r for results in answered for r in results if r.duplicate]
    assert sorted(stored.values()) == list(range(12 * 40 - 11))
    assert len(repeats) == 11
    assert all(stored[r.event_id] == r.seq for r in repeats)
    verdict = await verify_log(empty_log, caller=COMPLIANCE_OFFICER)
    assert verdict.ok
    assert verdict.checked >= 12 * 40 - 11


async def test_a_failed_commit_writes_nothing_and_the_next_one_starts_from_the_real_head(
    empty_log: AuditLog, audit_admin_db: Database
) -> None:
    # A node the first commit must write already exists: that commit fails as a whole.
    await tamper(audit_admin_db, "INSERT INTO audit.nodes VALUES (1, 0, '\\x00'::bytea)")
    with pytest.raises(UniqueViolation):
        await append(empty_log, events(2))
    await tamper(audit_admin_db, "DELETE FROM audit.nodes")

    results = await append(empty_log, events(3))

    assert [r.seq for r in results] == [0, 1, 2]
    assert (await verify_log(empty_log, caller=COMPLIANCE_OFFICER)).ok
