"""The sample a probe reads from a Prometheus text-format (0.0.4) body: the one sample of the
named metric whose labels include the wanted ones. No sample, or several that match, is an
error naming why, never a guess. The format itself is read by prometheus_client's own parser,
the reference implementation, rather than by a second one of ours."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client.parser import text_string_to_metric_families


class Unreadable(ValueError):
    """The body has no single matching sample, or it is not the text format."""


def sample(body: str, metric: str, wanted: Mapping[str, str]) -> float:
    found = [
        value
        for name, labels, value in _samples(body)
        if name == metric and all(labels.get(k) == v for k, v in wanted.items())
    ]
    if not found:
        raise Unreadable(f"no sample of {metric}{_show(wanted)}")
    if len(found) > 1:
        raise Unreadable(f"{len(found)} samples of {metric}{_show(wanted)}; name more labels")
    return found[0]


def _samples(body: str) -> Iterator[tuple[str, dict[str, str], float]]:
    try:
        for family in text_string_to_metric_families(body):
            for one in family.samples:
                yield one.name, one.labels, float(one.value)
    except ValueError:
        # The parser's message quotes the body, and a desk's error page may hold anything:
        # every role can read a probe run's reason, so it names the problem only.
        raise Unreadable("body is not the Prometheus text format") from None


def _show(wanted: Mapping[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(wanted.items())) + "}" if wanted else ""
