"""From an HTTP answer to an observation: read the value (JSON path or Prometheus sample) and
apply the rule. Anything that cannot be read is failing, with the reason as the error."""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from services.agent.probes.domain import jsonpath, prometheus
from services.agent.probes.domain.probes import AGE, FAILING, JSON, OK, STALENESS, Reading, Rule
from services.agent.triage import COMPARISONS

OPS: dict[str, Callable[[float, float], bool]] = {**COMPARISONS, "!=": operator.ne}


class Unreadable(ValueError):
    """The answer holds no usable value at the reading. Its message names the problem and
    never quotes the answer: every role reads a run's reason, and a desk's answer may hold
    anything (an error page, a token)."""


def value_of(body: str, reading: Reading) -> Any:
    if reading.kind == JSON:
        try:
            return jsonpath.read(json.loads(body), reading.path)
        except json.JSONDecodeError as exc:
            raise Unreadable(f"body is not JSON: {exc.msg} at character {exc.pos}") from None
        except jsonpath.Missing as exc:
            raise Unreadable(str(exc)) from None
    try:
        return prometheus.sample(body, reading.metric, reading.labels)
    except prometheus.Unreadable as exc:
        raise Unreadable(str(exc)) from None


def judge(raw: Any, rule: Rule, now: datetime) -> tuple[str, float, str]:
    """(status, the number compared, why it fails or "")."""
    if rule.kind == STALENESS:
        age = _number(raw) if rule.value_is == AGE else (now - _moment(raw)).total_seconds()
        if age > rule.max_age_s:
            return FAILING, age, f"value is {age:.3f} s old, more than {rule.max_age_s:g} s"
        return OK, age, ""
    value = _number(raw)
    if OPS[rule.op](value, rule.value):
        return FAILING, value, f"observed {value:g} {rule.op} {rule.value:g}"
    return OK, value, ""


def _number(raw: Any) -> float:
    if isinstance(raw, bool):
        return 1.0 if raw else 0.0  # {"healthy": true} reads as 1
    if isinstance(raw, int | float):
        number = float(raw)
    elif isinstance(raw, str):
        try:
            number = float(raw.strip())
        except ValueError:
            raise Unreadable("value is text that is not a number") from None
    else:
        raise Unreadable(f"value is a JSON {type(raw).__name__}, not a number")
    if not math.isfinite(number):
        raise Unreadable(f"value {number} is not finite")
    return number


def _moment(raw: Any) -> datetime:
    """A unix time in seconds, or an ISO-8601 text with a zone offset."""
    if isinstance(raw, str) and not _is_number(raw):
        try:
            moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            raise Unreadable("value is text that is not a timestamp") from None
        if moment.tzinfo is None:
            raise Unreadable("value is a timestamp without a time zone")
        return moment
    try:
        return datetime.fromtimestamp(_number(raw), UTC)
    except (OverflowError, OSError, ValueError):
        raise Unreadable("value is not a unix time in seconds") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
