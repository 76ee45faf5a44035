"""Process logging: one JSON object per line (time, level, service, logger, message, the
current trace and span ids, the exception if any), so a log shipper can index it and an
operator can jump from a log line to its trace. TRADEOPS_LOG_FORMAT=text gives the classic
one-line format for a terminal.

Every line passes through `scrub` first: bearer tokens, JWTs, PEM blocks and passwords in
connection URLs are replaced, so a secret that reaches a log call by mistake (an exception
carrying a request's headers, a database URL in an error) never reaches the file."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime

from opentelemetry import trace

# Every rule runs in linear time, on any text: the gateway logs request paths, so a caller
# chooses what is scrubbed. Quantifiers are possessive (each run stops where its characters
# stop, which is the only place the next token can begin anyway). And where a candidate turns
# out incomplete (a BEGIN with no END, a scheme with no `://`, a password with no `@`), the rule
# still matches the stretch it read, marked by an empty `done` group, and keeps it unchanged:
# no start inside that stretch could complete either, and the engine would otherwise re-read it
# from each of them (quadratic time: 64 KB took seconds). tests/runtime/test_scrub_linear.py
# holds the old rules and checks that the scrubbed text is the same.
# Order matters: a PEM block or a bearer header is replaced whole before the JWT rule runs.
_SECRETS = (
    (
        r"(?s)-----BEGIN [A-Z ]++-----(?:.*?(?P<done>-----END [A-Z ]++-----)|.*+)",
        "[pem redacted]",
    ),
    (r"(?i)\bbearer\s++(?P<done>[\w.~+/=-]++)", "Bearer [redacted]"),
    (r"\beyJ[\w-]{4,}+(?:\.[\w-]{4,}+(?P<done>\.)[\w-]*+)?", "[jwt redacted]"),
    (
        r"(?i)\b([a-z][a-z0-9+.-]*+)(?:(://[^/:@\s]++):[^@\s]++(?P<done>@)?)?",
        r"\1\2:[redacted]@",
    ),
    (r"(?i)\b(password|secret|api[_-]?key|token)=(?P<done>[^\s&,;]++)", r"\1=[redacted]"),
)


def _rule(template: str) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        return match.group(0) if match.group("done") is None else match.expand(template)

    return replace


_RULES = tuple((re.compile(pattern), _rule(template)) for pattern, template in _SECRETS)


def scrub(text: str) -> str:
    for pattern, replace in _RULES:
        text = pattern.sub(replace, text)
    return text


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            line["trace_id"] = format(span.trace_id, "032x")
            line["span_id"] = format(span.span_id, "016x")
        if record.exc_info:
            line["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


class ScrubbingTextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def setup_logging(service: str, level: int = logging.INFO) -> None:
    """Replaces the root handlers; uvicorn and library loggers propagate to it."""
    handler = logging.StreamHandler()
    if os.environ.get("TRADEOPS_LOG_FORMAT", "json").lower() == "text":
        text = f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"
        handler.setFormatter(ScrubbingTextFormatter(text))
    else:
        handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
