"""Audit summary use cases: summarise a window (stored and audited), read summaries back."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx

from runtime.auth import Principal
from runtime.db import Database
from runtime.egress import Refused, Unresolvable
from runtime.errors import InvalidArgument, NotFound
from runtime.outbox import person
from services.agent.compliance.clients.audit import AuditReader
from services.agent.compliance.clients.llm import narrate
from services.agent.compliance.domain.figures import Figures, compute
from services.agent.compliance.domain.narrative import write
from services.agent.compliance.domain.spikes import buckets_in
from services.agent.compliance.domain.summaries import Bound, Narration, Summary, figures_json
from services.agent.compliance.repository import summaries as repository
from services.agent.compliance.settings import LlmSettings, SummaryConfig
from services.agent.triage import record

log = logging.getLogger(__name__)
MAX_WINDOW = timedelta(days=31)


def check_window(since: datetime, until: datetime) -> None:
    if until <= since:
        raise InvalidArgument("until must be after since")
    if until - since > MAX_WINDOW:
        raise InvalidArgument(f"a summary window is at most {MAX_WINDOW.days} days")


async def summarise(
    db: Database,
    reader: AuditReader,
    *,
    since: datetime,
    until: datetime,
    caller: Principal,
    config: SummaryConfig,
    clock: Callable[[], datetime],
) -> Summary:
    check_window(since, until)
    bound = await reader.bound()
    records = await reader.records(since, until, bound)
    baseline_since = since - buckets_in(since, until, config.spikes) * config.spikes.bucket
    baseline = await reader.records(baseline_since, since, bound)
    figures = compute(
        records, baseline, since=since, until=until, hours=config.hours, rule=config.spikes
    )
    narrative = write(
        figures, since=since, until=until, checkpoint_size=_signed(bound), hours=str(config.hours)
    )
    llm = await _narrate(config.llm, figures, bound, since, until)
    summary = Summary(
        id=str(uuid.uuid4()),
        since=since,
        until=until,
        figures=figures,
        bound=bound,
        narrative=llm.output if llm else narrative,
        narrator="llm" if llm else "template",
        llm=llm,
        desk_hours=str(config.hours),
        requested_by=caller.subject,
        created_at=clock(),
    )
    async with db.transaction() as session:
        await repository.add(session, summary)
        await record(
            session,
            person(caller),
            "agent.audit_summary.created",
            f"audit_summary/{summary.id}",
            _provenance(summary),
        )
    return summary


def _signed(bound: Bound) -> int:
    return bound.size if bound.root else 0


async def _narrate(
    settings: LlmSettings | None,
    figures: Figures,
    bound: Bound,
    since: datetime,
    until: datetime,
) -> Narration | None:
    """None when narration is off; a failure is logged and the template narrative stays."""
    if settings is None:
        return None
    facts = {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "checkpoint_size": _signed(bound),
        "checkpoint_root": bound.root,
        **figures_json(figures),
    }
    try:
        return await narrate(settings, facts)
    except (httpx.HTTPError, ValueError, Refused, Unresolvable) as exc:
        log.warning("language-model narration failed, template kept: %s", exc)
        return None


def _provenance(summary: Summary) -> dict[str, object]:
    return {
        "since": summary.since.isoformat(),
        "until": summary.until.isoformat(),
        "first_seq": summary.figures.first_seq,
        "last_seq": summary.figures.last_seq,
        "record_count": summary.figures.record_count,
        "checkpoint_size": _signed(summary.bound),
        "checkpoint_root": summary.bound.root,
        "narrator": summary.narrator,
        "llm_model": summary.llm.model if summary.llm else "",
    }


async def get_summary(db: Database, *, summary_id: str) -> Summary:
    async with db.transaction() as session:
        found = await repository.get(session, summary_id)
    if found is None:
        raise NotFound(f"no audit summary {summary_id!r}")
    return found


async def list_summaries(db: Database, *, limit: int) -> list[Summary]:
    if limit < 0:
        raise InvalidArgument("limit must not be negative")
    async with db.transaction() as session:
        return await repository.newest(session, min(limit or 20, 200))
