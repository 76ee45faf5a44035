"""Bodies of /probes: scheduled checks of desk systems."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from gateway.bodies.base import IncidentKind, Metric, QueryModel, StrictModel, example
from tradeops.agent.v1 import probe_service_pb2 as pb

Text = Annotated[str, Field(max_length=2000)]


# What the agent takes (http or https, a host: a name or an address, IPv6 in brackets, a valid
# port, no blanks), in ASCII; whether the host may be reached is the egress policy's to say.
PORT = r"[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]"
HOST = r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]"
URL = rf"^[Hh][Tt][Tt][Pp][Ss]?://({HOST})(:({PORT}))?([/?#][!-~]*)?$"


Short = Annotated[str, Field(max_length=200)]


MetricName = Annotated[str, Field(min_length=1, max_length=64)]


Number = Annotated[float, Field(allow_inf_nan=False)]  # an integer is a number; true is not


class JsonReading(StrictModel):
    type: Literal["json"]
    path: Annotated[
        str, Field(min_length=1, max_length=500, pattern=r"^\$", description="e.g. $.feeds[0].lag")
    ]


# The names Prometheus takes, as the agent checks them (services/agent/probes/domain/validation).
PromMetric = Annotated[
    str, Field(min_length=1, max_length=200, pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
]
PromLabel = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")]


class PrometheusReading(StrictModel):
    type: Literal["prometheus"]
    metric: PromMetric
    labels: Annotated[dict[Short, Short], Field(max_length=20, default_factory=dict)]


class ThresholdRule(StrictModel):
    """The probe fails when `observed <op> value`."""

    type: Literal["threshold"]
    op: Literal[">", ">=", "<", "<=", "==", "!="]
    value: Number


class StalenessRule(StrictModel):
    """The probe fails when the reading (a timestamp, or an age in seconds) is older."""

    type: Literal["staleness"]
    max_age_s: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    value_is: Literal["timestamp", "age"] = "timestamp"


class IncidentBody(StrictModel):
    kind: IncidentKind
    desk: Short = ""
    subject: Annotated[str, Field(min_length=1, max_length=200)]
    summary: Annotated[str, Field(min_length=1, max_length=1000)]
    metrics: Annotated[dict[MetricName, Metric], Field(max_length=49, default_factory=dict)]
    value_metric: Annotated[str, Field(min_length=1, max_length=64)] = "observed"


class ProbeBody(StrictModel):
    model_config = example(
        {
            "name": "itch-lag",
            "url": "http://md-gateway-ny4:9100/metrics",
            "reading": {"type": "prometheus", "metric": "feed_lag_ms", "labels": {"feed": "ITCH"}},
            "rule": {"type": "threshold", "op": ">", "value": 500},
            "interval_s": 30,
            "timeout_s": 2,
            "incident": {
                "kind": "market_data_latency",
                "subject": "XNAS-ITCH",
                "summary": "the ITCH feed lags",
                "value_metric": "latency_ms",
            },
        }
    )

    name: Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
    url: Annotated[str, Field(min_length=1, max_length=2000, pattern=URL)]
    description: Text = ""
    reading: Annotated[JsonReading | PrometheusReading, Field(discriminator="type")]
    rule: Annotated[ThresholdRule | StalenessRule, Field(discriminator="type")]
    interval_s: Annotated[int, Field(ge=1, le=86_400)]
    timeout_s: Annotated[float, Field(gt=0, le=60, allow_inf_nan=False)]
    incident: IncidentBody

    def to_message(self, probe_id: str = "") -> pb.PutProbeRequest:
        return pb.PutProbeRequest(id=probe_id, definition=self._definition())

    def _definition(self) -> pb.ProbeDefinition:
        definition = pb.ProbeDefinition(
            name=self.name,
            url=self.url,
            description=self.description,
            interval_s=self.interval_s,
            timeout_s=self.timeout_s,
            incident=pb.IncidentTemplate(**self.incident.model_dump()),
        )
        if isinstance(self.reading, JsonReading):
            definition.json.path = self.reading.path
        else:
            definition.prometheus.metric = self.reading.metric
            definition.prometheus.labels.update(self.reading.labels)
        if isinstance(self.rule, ThresholdRule):
            definition.threshold.op, definition.threshold.value = self.rule.op, self.rule.value
        else:
            definition.staleness.max_age_s = self.rule.max_age_s
            definition.staleness.value_is = self.rule.value_is
        return definition


class ProbeLimit(QueryModel):
    limit: Annotated[int, Field(ge=1, le=500)] = 50
