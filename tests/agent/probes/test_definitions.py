"""Probe definitions: strict validation (nothing stored on a bad one), and versions kept for
every change, each audited with who and which version."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select

from runtime.db import Database
from runtime.errors import InvalidArgument, NotFound
from services.agent.probes.domain.probes import IncidentTemplate, Reading, Rule
from services.agent.probes.repository import probes as store
from services.agent.probes.service import probes as service
from services.agent.probes.tables import probe_versions, probes
from tests.agent.probes.helpers import ADMIN, Clock, events, latency_probe, put

URL = "http://127.0.0.1:9"
TEMPLATE = latency_probe(URL).incident
UNKNOWN_ID = "6a1c1b8e-0000-4000-8000-000000000001"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "MD Latency"}, "name must be"),
        ({"url": "ftp://desk/health"}, "url must be an http or https URL"),
        ({"url": "http://user:pw@desk/health"}, "must not carry credentials"),
        ({"url": "http://[::1/health"}, "url is not a valid URL"),
        ({"url": "http://desk:99999/health"}, "url is not a valid URL"),
        ({"url": "http://desk/he alth"}, "must not contain spaces"),
        ({"reading": Reading("json", path="lag_ms")}, "must start with '$'"),
        ({"reading": Reading("json", path="$.feeds[*]")}, "not understood at character 7"),
        ({"reading": Reading("prometheus", metric="lag-ms")}, "not a Prometheus metric name"),
        ({"reading": Reading("xml", path="$.a")}, "reading must be"),
        ({"rule": Rule("threshold", op="=>", value=1)}, "op must be one of"),
        ({"rule": Rule("threshold", op=">", value=float("nan"))}, "value must be a finite"),
        ({"rule": Rule("staleness", max_age_s=0)}, "max_age_s must be a positive"),
        ({"rule": Rule("staleness", max_age_s=5, value_is="epoch")}, "value_is must be"),
        ({"interval_s": 0}, "interval_s must be"),
        ({"timeout_s": 30.0}, "timeout_s must be > 0, <= 60 and < interval_s"),
        ({"incident": replace(TEMPLATE, kind="outage")}, "incident kind 'outage' is not one"),
        ({"incident": replace(TEMPLATE, subject=" ")}, "incident subject is required"),
        ({"incident": replace(TEMPLATE, summary="lag {secret}")}, "incident summary names"),
        ({"incident": replace(TEMPLATE, summary="lag {value.__class__}")}, "summary names"),
        ({"incident": replace(TEMPLATE, summary="lag {")}, "not a valid template"),
        ({"incident": replace(TEMPLATE, value_metric="threshold_ms")}, "must be distinct"),
        ({"incident": replace(TEMPLATE, summary="lag {value:>99999}")}, "no format spec"),
        ({"incident": replace(TEMPLATE, summary="lag {value!r}")}, "no format spec"),
        (
            {"incident": replace(TEMPLATE, metrics={"lag ms": 1.0}, value_metric="lag_ms")},
            "two metric names are the same once normalised",
        ),
    ],
)
async def test_a_bad_definition_is_refused_naming_the_problem_and_nothing_is_stored(
    agent_db: Database, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        await put(agent_db, replace(latency_probe(URL), **changes), Clock())

    async with agent_db.transaction() as session:
        assert (await session.execute(select(func.count()).select_from(probes))).scalar() == 0
    assert await events(agent_db, "agent.probe.") == []


async def test_every_change_is_a_new_version_and_old_versions_are_kept(
    agent_db: Database,
) -> None:
    clock = Clock()
    first = await put(agent_db, latency_probe(URL), clock)
    clock.advance(60)
    same = await put(agent_db, latency_probe(URL), clock)
    second = await put(agent_db, latency_probe(URL, interval_s=60), clock, probe_id=first.id)
    disabled = await service.disable_probe(agent_db, probe_id=first.id, caller=ADMIN, clock=clock)
    again = await service.disable_probe(agent_db, probe_id=first.id, caller=ADMIN, clock=clock)
    probe, versions = await service.get_probe(agent_db, probe_id=first.id)

    assert (first.version, same.version, second.version, disabled.version) == (1, 1, 2, 3)
    assert again.version == 3
    assert not probe.enabled
    assert [(v.version, v.change, v.enabled) for v in versions] == [
        (3, "disabled", False),
        (2, "changed", True),
        (1, "created", True),
    ]
    assert [v.spec.interval_s for v in versions] == [60, 60, 30]
    assert {v.changed_by for v in versions} == {"ada"}
    audited = await events(agent_db, "agent.probe.")
    assert [(e["action"], e["payload"]["version"]) for e in audited] == [
        ("agent.probe.created", 1),
        ("agent.probe.changed", 2),
        ("agent.probe.disabled", 3),
    ]
    assert all(
        e["actor"]["subject"] == "ada" and e["target"] == f"probe/{first.id}" for e in audited
    )
    assert audited[1]["payload"]["definition"]["interval_s"] == 60


async def test_a_disabled_probe_does_not_run_and_putting_it_again_enables_it(
    agent_db: Database,
) -> None:
    clock = Clock()
    probe = await put(agent_db, latency_probe(URL), clock)
    await service.disable_probe(agent_db, probe_id=probe.id, caller=ADMIN, clock=clock)
    async with agent_db.transaction() as session:
        assert await store.claim_due(session, clock.advance(3600), 10) == []
    enabled = await put(agent_db, latency_probe(URL), clock)
    async with agent_db.transaction() as session:
        [due] = await store.claim_due(session, clock(), 10)

    assert (enabled.version, enabled.enabled, due.id) == (3, True, probe.id)
    async with agent_db.transaction() as session:
        count = select(func.count()).select_from(probe_versions)
        assert (await session.execute(count)).scalar() == 3


async def test_a_probe_cannot_be_renamed_or_changed_when_unknown(agent_db: Database) -> None:
    clock = Clock()
    probe = await put(agent_db, latency_probe(URL), clock)

    with pytest.raises(InvalidArgument, match="names are fixed"):
        await put(agent_db, latency_probe(URL, name="other"), clock, probe_id=probe.id)
    with pytest.raises(NotFound):
        await put(agent_db, latency_probe(URL), clock, probe_id=UNKNOWN_ID)
    with pytest.raises(NotFound):
        await service.list_runs(agent_db, probe_id="not-an-id", limit=0)


def test_the_incident_template_default_reports_the_value_as_observed() -> None:
    assert IncidentTemplate("stale_price", "", "X", "s").value_metric == "observed"
