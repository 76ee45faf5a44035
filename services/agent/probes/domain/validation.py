"""Strict validation of a probe definition: InvalidArgument names the first problem, and a
definition that fails here is never stored."""

from __future__ import annotations

import math
import re
import string
from collections.abc import Collection
from urllib.parse import urlsplit

from runtime.egress import DEFAULT, EgressPolicy, Refused
from runtime.errors import InvalidArgument
from services.agent.probes.domain import readings
from services.agent.probes.domain.jsonpath import parse_path
from services.agent.probes.domain.probes import (
    AGE,
    JSON,
    PROMETHEUS,
    STALENESS,
    THRESHOLD,
    TIMESTAMP,
    IncidentTemplate,
    ProbeSpec,
    Reading,
    Rule,
)
from services.agent.triage import (
    MAX_METRIC_NAME,
    MAX_METRICS,
    MAX_SUMMARY,
    MAX_TEXT,
    check_kind,
)

NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
OPS = tuple(readings.OPS)
PLACEHOLDERS = frozenset({"probe", "version", "url", "value", "error"})
MIN_INTERVAL_S, MAX_INTERVAL_S = 1, 86_400
MAX_TIMEOUT_S, MAX_URL, MAX_LABELS = 60.0, 2000, 20


def validate(spec: ProbeSpec, kinds: Collection[str], egress: EgressPolicy = DEFAULT) -> ProbeSpec:
    """`kinds`: those the active rule set declares (triage's active_kinds)."""
    if not NAME.match(spec.name):
        raise InvalidArgument("name must be 1 to 63 of a-z, 0-9, '_', '.', '-' (lower case)")
    _url(spec.url, egress)
    _reading(spec.reading)
    _rule(spec.rule)
    if not MIN_INTERVAL_S <= spec.interval_s <= MAX_INTERVAL_S:
        raise InvalidArgument(f"interval_s must be {MIN_INTERVAL_S} to {MAX_INTERVAL_S}")
    if not (0 < spec.timeout_s <= MAX_TIMEOUT_S and spec.timeout_s < spec.interval_s):
        raise InvalidArgument(f"timeout_s must be > 0, <= {MAX_TIMEOUT_S:g} and < interval_s")
    _incident(spec.incident, kinds)
    if len(spec.description) > MAX_SUMMARY:
        raise InvalidArgument(f"description is longer than {MAX_SUMMARY} characters")
    return spec


def _url(url: str, egress: EgressPolicy) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # a malformed port raises here, not at the first run
    except ValueError:
        raise InvalidArgument("url is not a valid URL") from None
    if any(c.isspace() or not c.isprintable() for c in url):
        raise InvalidArgument("url must not contain spaces or control characters")
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL:
        raise InvalidArgument("url must be an http or https URL with a host")
    if parts.username or parts.password:
        raise InvalidArgument("url must not carry credentials (they would be stored and shown)")
    try:
        egress.check_host(parts.hostname)
    except Refused as exc:
        raise InvalidArgument(str(exc)) from None


def _reading(reading: Reading) -> None:
    if reading.kind == JSON:
        parse_path(reading.path)
    elif reading.kind == PROMETHEUS:
        if not METRIC.match(reading.metric):
            raise InvalidArgument(f"metric {reading.metric!r} is not a Prometheus metric name")
        if len(reading.labels) > MAX_LABELS or not all(map(LABEL.match, reading.labels)):
            raise InvalidArgument("labels must be Prometheus label names (at most 20)")
    else:
        raise InvalidArgument(f"reading must be {JSON!r} (a JSON path) or {PROMETHEUS!r}")


def _rule(rule: Rule) -> None:
    if rule.kind == THRESHOLD:
        if rule.op not in OPS:
            raise InvalidArgument(f"op must be one of {', '.join(OPS)}")
        if not math.isfinite(rule.value):
            raise InvalidArgument("value must be a finite number")
    elif rule.kind == STALENESS:
        if not (math.isfinite(rule.max_age_s) and rule.max_age_s > 0):
            raise InvalidArgument("max_age_s must be a positive number")
        if rule.value_is not in (TIMESTAMP, AGE):
            raise InvalidArgument(f"value_is must be {TIMESTAMP!r} or {AGE!r}")
    else:
        raise InvalidArgument(f"rule must be {THRESHOLD!r} or {STALENESS!r}")


def _incident(template: IncidentTemplate, kinds: Collection[str]) -> None:
    check_kind(template.kind, kinds, "incident kind")
    if not template.subject.strip():
        raise InvalidArgument("incident subject is required")
    if len(template.subject) > MAX_TEXT or len(template.desk) > MAX_TEXT:
        raise InvalidArgument(f"incident desk and subject are at most {MAX_TEXT} characters")
    if not template.summary.strip() or len(template.summary) > MAX_SUMMARY // 2:
        raise InvalidArgument(f"incident summary is required, at most {MAX_SUMMARY // 2} chars")
    _placeholders(template.summary)
    names = [*template.metrics, template.value_metric]
    if len(names) > MAX_METRICS or len(set(names)) != len(names):
        raise InvalidArgument("incident metrics must be distinct from value_metric, at most 49")
    if not all(0 < len(n.strip()) <= MAX_METRIC_NAME for n in names):
        raise InvalidArgument(f"metric names must be 1 to {MAX_METRIC_NAME} characters")
    if not all(math.isfinite(v) for v in template.metrics.values()):
        raise InvalidArgument("incident metrics must be finite numbers")


def _placeholders(summary: str) -> None:
    try:
        parsed = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(summary)]
    except ValueError as exc:
        raise InvalidArgument(f"incident summary is not a valid template: {exc}") from None
    fields = [f for f, _, _ in parsed if f is not None]
    if any(spec or conv for f, spec, conv in parsed if f is not None):
        raise InvalidArgument("incident summary placeholders take no format spec or conversion")
    if unknown := [f for f in fields if f not in PLACEHOLDERS]:
        raise InvalidArgument(
            f"incident summary names {unknown}; allowed: {', '.join(sorted(PLACEHOLDERS))}"
        )
