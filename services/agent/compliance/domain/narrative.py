"""The readable narrative, written from the figures by a fixed template: the same figures
always give the same text."""

from __future__ import annotations

from datetime import datetime

from services.agent.compliance.domain.figures import Figures

TOP = 3


def _top(pairs: list[tuple[str, int]]) -> str:
    return ", ".join(f"{key} ({count})" for key, count in pairs[:TOP])


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def write(
    figures: Figures, *, since: datetime, until: datetime, checkpoint_size: int, hours: str
) -> str:
    span = f"From {since.isoformat()} to {until.isoformat()}"
    if figures.record_count == 0:
        return f"{span} the audit log holds no records (log bounded at {checkpoint_size})."
    lines = [
        f"{span} the audit log recorded {_plural(figures.record_count, 'event')} "
        f"(seq {figures.first_seq} to {figures.last_seq}, "
        f"{_provenance(checkpoint_size)}).",
        f"Most frequent actions: {_top(figures.by_action)}. "
        f"Most active actors: {_top(figures.by_actor)}. Outcomes: {_top(figures.by_outcome)}.",
        f"Approvers cast {_plural(figures.approve_votes, 'approval')} and "
        f"{_plural(figures.reject_votes, 'rejection')}; {figures.actions_approved} action(s) "
        f"reached quorum and {figures.actions_rejected} were rejected. "
        f"People overrode {_plural(figures.overrides, 'triage decision')}.",
    ]
    if figures.after_hours:
        lines.append(
            f"{_plural(figures.after_hours, 'event')} by people fell outside desk hours "
            f"({hours}): {_top(figures.after_hours_by_actor)}."
        )
    if figures.denied:
        lines.append(
            f"{_plural(figures.denied, 'attempt')} were refused: {_top(figures.denied_by_actor)}."
        )
    for spike in figures.spikes:
        what = spike.action or "all activity"
        lines.append(
            f"Spike in {what} from {spike.bucket_start.isoformat()}: {spike.count} against a "
            f"baseline of {spike.baseline_mean:.2f} ± {spike.baseline_sd:.2f}."
        )
    return " ".join(lines)


def _provenance(checkpoint_size: int) -> str:
    if checkpoint_size:
        return f"all covered by the signed checkpoint of tree size {checkpoint_size}"
    return "the log had no signed checkpoint yet"
