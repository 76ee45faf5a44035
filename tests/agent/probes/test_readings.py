"""What a probe reads from a real HTTP answer: a JSON path or a Prometheus sample, judged by a
threshold or staleness rule; anything unreadable is failing with the reason."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from services.agent.probes.clients.desks import observe
from services.agent.probes.domain.probes import Observation, ProbeSpec, Reading, Rule
from tests.agent.probes.desk import Desk
from tests.agent.probes.helpers import START, latency_probe

METRICS = """# HELP md_feed_lag_seconds Feed lag.
# TYPE md_feed_lag_seconds gauge
md_feed_lag_seconds{feed="XNAS-ITCH",site="ny4"} 0.85
md_feed_lag_seconds{feed="XLON",site="ld4"} 0.02
md_last_tick_timestamp_seconds{feed="XNAS-ITCH"} 1793606400 1793606400123
fix_sessions_up 3
"""
PROMETHEUS = "text/plain; version=0.0.4"


async def seen(
    http: httpx.AsyncClient, desk: Desk, body: str, spec: ProbeSpec, ctype: str = "application/json"
) -> Observation:
    desk.flip(body=body, content_type=ctype)
    return await observe(http, spec, START)


def prom(desk: Desk, metric: str, rule: Rule, **labels: str) -> ProbeSpec:
    return latency_probe(
        desk.url, reading=Reading("prometheus", metric=metric, labels=labels), rule=rule
    )


@pytest.mark.parametrize(
    ("path", "body", "value"),
    [
        ("$.lag_ms", {"lag_ms": 850}, 850.0),
        ("$.feeds[1].lag_ms", {"feeds": [{"lag_ms": 1}, {"lag_ms": 640.5}]}, 640.5),
        ('$["md-gw"].lag', {"md-gw": {"lag": "777"}}, 777.0),
        ("$.healthy", {"healthy": True}, 1.0),
    ],
)
async def test_a_json_path_reads_nested_values(
    desk: Desk, http: httpx.AsyncClient, path: str, body: object, value: float
) -> None:
    spec = latency_probe(desk.url, reading=Reading("json", path=path))
    found = await seen(http, desk, json.dumps(body), spec)
    assert found.value == value
    assert found.status == ("failing" if value > 500 else "ok")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ('{"lag": 3}', "no value at $.lag_ms"),
        ('{"lag_ms": [1]}', "value is a JSON list, not a number"),
        ('{"lag_ms": "fast"}', "value is text that is not a number"),
        ("<html>oops</html>", "body is not JSON: Expecting value at character 0"),
    ],
)
async def test_an_unreadable_json_answer_is_failing_with_the_reason(
    desk: Desk, http: httpx.AsyncClient, body: str, error: str
) -> None:
    found = await seen(http, desk, body, latency_probe(desk.url))
    assert (found.status, found.value, found.error) == ("failing", None, error)


async def test_a_prometheus_sample_is_chosen_by_its_labels(
    desk: Desk, http: httpx.AsyncClient
) -> None:
    over = Rule("threshold", op=">=", value=0.5)
    nasdaq = prom(desk, "md_feed_lag_seconds", over, feed="XNAS-ITCH")
    london = prom(desk, "md_feed_lag_seconds", over, site="ld4")
    sessions = prom(desk, "fix_sessions_up", Rule("threshold", op="<", value=4))

    assert (await seen(http, desk, METRICS, nasdaq, PROMETHEUS)).status == "failing"
    assert (await seen(http, desk, METRICS, london, PROMETHEUS)).value == 0.02
    found = await seen(http, desk, METRICS, sessions, PROMETHEUS)
    assert (found.status, found.error) == ("failing", "observed 3 < 4")


@pytest.mark.parametrize(
    ("metric", "labels", "error"),
    [
        ("md_feed_lag_seconds", {}, "2 samples of md_feed_lag_seconds; name more labels"),
        ("md_feed_lag_seconds", {"feed": "XPAR"}, 'no sample of md_feed_lag_seconds{feed="XPAR"}'),
        ("orders_total", {}, "no sample of orders_total"),
    ],
)
async def test_a_missing_or_ambiguous_sample_is_failing(
    desk: Desk, http: httpx.AsyncClient, metric: str, labels: dict[str, str], error: str
) -> None:
    spec = prom(desk, metric, Rule("threshold", op=">", value=1), **labels)
    found = await seen(http, desk, METRICS, spec, PROMETHEUS)
    assert (found.status, found.error) == ("failing", error)


async def test_a_body_that_is_not_the_text_format_is_failing(
    desk: Desk, http: httpx.AsyncClient
) -> None:
    spec = prom(desk, "up", Rule("threshold", op="<", value=1))
    found = await seen(http, desk, "<html>down</html>\n", spec, PROMETHEUS)
    assert (found.status, found.error) == ("failing", "body is not the Prometheus text format")


async def test_a_staleness_rule_reads_unix_or_iso_timestamps_and_ages(
    desk: Desk, http: httpx.AsyncClient
) -> None:
    stale = Rule("staleness", max_age_s=60)
    fresh_at = START - timedelta(seconds=20)
    unix = replace(
        prom(desk, "md_last_tick_timestamp_seconds", stale), rule=stale
    )  # 1793606400 is an hour before START
    iso = latency_probe(desk.url, reading=Reading("json", path="$.last_tick"), rule=stale)
    age = latency_probe(
        desk.url, reading=Reading("json", path="$.age_s"), rule=replace(stale, value_is="age")
    )

    old = await seen(http, desk, METRICS, unix, PROMETHEUS)
    recent = await seen(http, desk, json.dumps({"last_tick": fresh_at.isoformat()}), iso)
    aged = await seen(http, desk, '{"age_s": 61}', age)

    assert old.status == "failing"
    assert old.error.endswith("more than 60 s")
    assert (recent.status, recent.value) == ("ok", 20.0)
    assert (aged.status, aged.value) == ("failing", 61.0)


async def test_a_timestamp_without_a_zone_is_unreadable(
    desk: Desk, http: httpx.AsyncClient
) -> None:
    spec = latency_probe(
        desk.url,
        reading=Reading("json", path="$.t"),
        rule=Rule("staleness", max_age_s=60),
    )
    found = await seen(http, desk, '{"t": "2026-11-02T09:00:00"}', spec)
    assert (found.status, found.error) == ("failing", "value is a timestamp without a time zone")


async def test_a_failing_answer_is_described_without_quoting_what_the_desk_sent(
    desk: Desk, http: httpx.AsyncClient
) -> None:
    secret = "session=8f0c2a token=eyJhbGciOi"
    desk.flip(status=503, reason=secret, body=secret)
    failed = await observe(http, latency_probe(desk.url), START)
    desk.flip(status=200, reason="", body=f'{{"lag_ms": "{secret}"}}')
    unreadable = await observe(http, latency_probe(desk.url), START)

    assert (failed.error, unreadable.error) == (
        "HTTP 503 Service Unavailable",
        "value is text that is not a number",
    )
