"""Intake: reports are normalised, repeats within the window are folded onto the open incident,
and related incidents share a correlation group."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import select

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import InvalidArgument
from services.agent.tables import outbox
from services.agent.triage.domain.incidents import Incident, NewIncident, fingerprint, normalise
from services.agent.triage.service import incidents as service
from tests.agent.fakes import NOW, Clock, list_incidents, make_agent

Principals = Callable[..., Principal]
LATENCY = NewIncident(
    source="md-gateway-ny4",
    kind="market_data_latency",
    desk="eq-cash",
    subject="XNAS-ITCH",
    summary="ITCH feed lagging",
    metrics={"latency_ms": 850.0},
    observed_at=NOW,
    venue="XNAS",
)


def test_a_report_is_trimmed_and_cased_by_the_documented_rules() -> None:
    sloppy = replace(
        LATENCY,
        source="  MD-Gateway-NY4 ",
        kind=" Market-Data Latency",
        desk=" EQ-Cash",
        subject="  XNAS   ITCH ",
        venue=" xnas ",
        instrument=" aapl ",
        metrics={" Latency-MS ": 850.0, "gap.count": 2.0},
    )
    clean = normalise(sloppy)
    assert (clean.source, clean.kind, clean.desk) == (
        "md-gateway-ny4",
        "market_data_latency",
        "eq-cash",
    )
    assert (clean.subject, clean.venue, clean.instrument) == ("XNAS ITCH", "XNAS", "AAPL")
    assert clean.metrics == {"latency_ms": 850.0, "gap_count": 2.0}


def test_an_empty_subject_defaults_to_the_instrument_then_the_venue() -> None:
    assert normalise(replace(LATENCY, subject=" ", instrument="aapl")).subject == "AAPL"
    assert normalise(replace(LATENCY, subject="", instrument="")).subject == "XNAS"


def test_two_metric_names_that_normalise_alike_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="same once normalised"):
        normalise(replace(LATENCY, metrics={"latency_ms": 1.0, "Latency-MS": 2.0}))


def test_the_fingerprint_ignores_subject_case_metrics_and_time_but_not_the_reporter() -> None:
    base = fingerprint(normalise(LATENCY))
    other_reading = replace(LATENCY, subject="xnas-itch", metrics={"latency_ms": 3000.0})
    assert fingerprint(normalise(other_reading)) == base
    assert fingerprint(normalise(replace(LATENCY, source="md-gateway-ld4"))) != base
    assert fingerprint(normalise(replace(LATENCY, kind="stale_price"))) != base


async def take(db: Database, clock: Clock, caller: Principal, new: NewIncident) -> Incident:
    return await service.create_incident(db, new=new, caller=caller, clock=clock)


async def actions(db: Database) -> list[str]:
    async with db.transaction() as session:
        rows = await session.execute(select(outbox.c.event).order_by(outbox.c.id))
        return [row.event["action"] for row in rows]


async def test_a_repeat_within_the_window_is_folded_onto_the_open_incident(
    agent_db: Database, principal_for: Principals
) -> None:
    clock, desk = Clock(), principal_for("svc:md", "service")
    first = await take(agent_db, clock, desk, LATENCY)
    clock.advance(minutes=9)
    again = await take(agent_db, clock, desk, replace(LATENCY, subject="xnas-itch"))
    assert (again.id, again.deduplicated, again.occurrences) == (first.id, True, 2)
    assert not first.deduplicated
    stored = await service.get_incident(make_agent(agent_db, clock=clock), incident_id=first.id)
    assert (stored.occurrences, stored.last_seen_at) == (2, clock.now)
    assert await actions(agent_db) == ["agent.incident.created", "agent.incident.repeated"]
    assert len(await list_incidents(agent_db, limit=10)) == 1


async def test_the_window_slides_with_each_repeat_and_a_later_report_opens_a_new_incident(
    agent_db: Database, principal_for: Principals
) -> None:
    clock, desk = Clock(), principal_for("svc:md", "service")
    first = await take(agent_db, clock, desk, LATENCY)
    clock.advance(minutes=8)
    assert (await take(agent_db, clock, desk, LATENCY)).id == first.id
    clock.advance(minutes=8)  # 16 minutes after the first, 8 after the last
    assert (await take(agent_db, clock, desk, LATENCY)).id == first.id
    clock.advance(minutes=10, seconds=1)
    later = await take(agent_db, clock, desk, LATENCY)
    assert (later.id != first.id, later.deduplicated, later.occurrences) == (True, False, 1)


async def test_incidents_on_the_same_desk_and_subject_or_venue_are_correlated(
    agent_db: Database, principal_for: Principals
) -> None:
    clock, desk = Clock(), principal_for("svc:md", "service")
    feed = await take(agent_db, clock, desk, LATENCY)
    stale = await take(agent_db, clock, desk, replace(LATENCY, kind="stale_price", source="pricer"))
    rejects = replace(LATENCY, kind="order_reject_spike", desk="eq-algo", subject="momo-7")
    on_venue = await take(agent_db, clock, desk, rejects)
    elsewhere = await take(agent_db, clock, desk, replace(rejects, venue="XLON", subject="m-9"))
    assert feed.correlation_id == feed.id
    assert stale.correlation_id == on_venue.correlation_id == feed.id
    assert elsewhere.correlation_id == elsewhere.id
    seen = await service.get_incident(make_agent(agent_db, clock=clock), incident_id=feed.id)
    assert set(seen.related) == {stale.id, on_venue.id}


async def test_correlation_ends_with_its_window(
    agent_db: Database, principal_for: Principals
) -> None:
    clock, desk = Clock(), principal_for("svc:md", "service")
    feed = await take(agent_db, clock, desk, LATENCY)
    clock.advance(minutes=11)
    stale = await take(agent_db, clock, desk, replace(LATENCY, kind="stale_price"))
    assert (feed.correlation_id, stale.correlation_id) == (feed.id, stale.id)
