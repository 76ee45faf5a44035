"""Dry-run models: what an action would do, predicted from the incident's metrics and the
playbook's stated assumptions. Pure and deterministic; nothing is executed or contacted.

A model receives the step's rendered parameters, the plan context and the assumptions, and
prefers a figure the incident reported (for example `secondary_latency_ms`) over the assumed one,
so the prediction says which figures it assumed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from services.agent.remediation.domain.plans import DryRunResult, Effect, PlanContext

Model = Callable[[Mapping[str, Any], PlanContext, Mapping[str, float]], DryRunResult]


def n(value: float) -> str:
    """A figure as people write it: 850, 0.22, 12.5."""
    return f"{value:.6g}"


class _Figures:
    """Looks a figure up in the incident's metrics first, then in the assumptions; records which
    assumptions were used."""

    def __init__(self, context: PlanContext, assumptions: Mapping[str, float]) -> None:
        self._metrics, self._assumptions = context.metrics, assumptions
        self.used: dict[str, float] = {}

    def get(self, name: str) -> float | None:
        if name in self._metrics:
            return float(self._metrics[name])
        if name in self._assumptions:
            self.used[name] = float(self._assumptions[name])
            return self.used[name]
        return None

    def observed(self, *names: str) -> float | None:
        """The first of `names` (synonyms desk systems use) the incident reported."""
        found = next((name for name in names if name in self._metrics), None)
        return None if found is None else float(self._metrics[found])


def feed_failover(
    params: Mapping[str, Any], ctx: PlanContext, assumed: Mapping[str, float]
) -> DryRunResult:
    fig, feed, to = (
        _Figures(ctx, assumed),
        params.get("feed", ctx.subject),
        params.get("to", "secondary"),
    )
    parts, effects = [f"feed {feed} fails over to {to}"], []
    latency = fig.observed("latency_ms")
    if latency is not None and (after := fig.get("secondary_latency_ms")) is not None:
        effects.append(Effect("latency_ms", latency, after, "ms"))
        parts.append(f"expected latency {n(latency)} ms -> ~{n(after)} ms")
    stale = fig.observed("staleness_s")
    if stale is not None and (fresh := fig.get("staleness_after_s")) is not None:
        effects.append(Effect("staleness_s", stale, fresh, "s"))
        parts.append(f"price staleness {n(stale)} s -> ~{n(fresh)} s")
    subscribers = fig.get("subscribed_strategies")
    parts.append(
        f"{n(subscribers)} strategies re-subscribe" if subscribers else "subscribers re-subscribe"
    )
    gap = fig.get("switchover_gap_ms")
    impacts = (f"~{n(gap)} ms without quotes while subscribers switch",) if gap else ()
    return DryRunResult("feed_failover", "; ".join(parts), tuple(effects), impacts, fig.used)


def order_throttle(
    params: Mapping[str, Any], ctx: PlanContext, assumed: Mapping[str, float]
) -> DryRunResult:
    fig, strategy, cap = (
        _Figures(ctx, assumed),
        params.get("strategy", ctx.subject),
        float(params["max_orders_per_s"]),
    )
    parts, effects, impacts = [f"strategy {strategy} throttled to {n(cap)} orders/s"], [], []
    rate = fig.observed("order_rate_per_s", "orders_per_s")
    if rate is not None:
        after = min(rate, cap)
        effects.append(Effect("order_rate_per_s", rate, after, "orders/s"))
        parts.append(f"order rate {n(rate)}/s -> {n(after)}/s")
        if rate > cap:
            impacts.append(f"~{n(rate - cap)} orders/s held back by the throttle")
    rejects = fig.observed("reject_rate")
    if rejects is not None and (expected := fig.get("reject_rate_after")) is not None:
        effects.append(Effect("reject_rate", rejects, min(rejects, expected), "ratio"))
        parts.append(f"reject rate {n(rejects * 100)}% -> ~{n(min(rejects, expected) * 100)}%")
    impacts.append("working orders stay live; only new orders are paced")
    return DryRunResult(
        "order_throttle", "; ".join(parts), tuple(effects), tuple(impacts), fig.used
    )


def kill_switch(
    params: Mapping[str, Any], ctx: PlanContext, assumed: Mapping[str, float]
) -> DryRunResult:
    fig, strategy = _Figures(ctx, assumed), params.get("strategy", ctx.subject)
    parts, effects = [f"strategy {strategy} stops sending orders (kill switch engaged)"], []
    rate = fig.observed("order_rate_per_s", "orders_per_s")
    if rate is not None:
        effects.append(Effect("order_rate_per_s", rate, 0.0, "orders/s"))
        parts.append(f"order rate {n(rate)}/s -> 0/s")
    open_orders = fig.observed("open_orders")
    if open_orders is not None:
        effects.append(Effect("open_orders", open_orders, 0.0, "orders"))
        parts.append(f"{n(open_orders)} open orders cancelled")
    impacts = ["positions are frozen, not flattened: a trader must unwind them"]
    impacts.append("re-enabling the strategy needs a new approved action")
    return DryRunResult("kill_switch", "; ".join(parts), tuple(effects), tuple(impacts), fig.used)


def fix_restart(
    params: Mapping[str, Any], ctx: PlanContext, assumed: Mapping[str, float]
) -> DryRunResult:
    fig, session = _Figures(ctx, assumed), params.get("session", ctx.subject)
    downtime = fig.get("restart_downtime_s") or 0.0
    parts = [f"FIX session {session} logs out and back on; ~{n(downtime)} s without order entry"]
    effects = [Effect("session_up", 0.0, 1.0, "bool")]
    gap = fig.observed("seq_gap")
    if gap is not None:
        parts.append(f"{n(gap)} missed messages recovered by resend request")
    impacts = ("orders in flight on the session are resent or rejected by the venue",)
    return DryRunResult("fix_restart", "; ".join(parts), tuple(effects), impacts, fig.used)


def recon_rerun(
    params: Mapping[str, Any], ctx: PlanContext, assumed: Mapping[str, float]
) -> DryRunResult:
    fig, scope = _Figures(ctx, assumed), params.get("scope", "positions")
    target = params.get("subject", ctx.subject)
    duration = fig.get("duration_s") or 0.0
    parts = [f"{scope} reconciliation for {target} re-runs; ~{n(duration / 60)} min"]
    effects, breaks = [], fig.observed("breaks")
    if breaks is not None and (share := fig.get("timing_share")) is not None:
        left = float(round(breaks * (1 - share)))
        effects.append(Effect("breaks", breaks, left, "breaks"))
        parts.append(f"{n(breaks)} breaks re-checked, ~{n(left)} expected to remain")
    diff = fig.observed("abs_diff")
    if diff is not None:
        parts.append(f"P&L difference of {n(diff)} re-derived from the latest bookings")
    impacts = ("read-only: no booking or position is changed",)
    return DryRunResult("recon_rerun", "; ".join(parts), tuple(effects), impacts, fig.used)


MODELS: dict[str, Model] = {
    "feed_failover": feed_failover,
    "order_throttle": order_throttle,
    "kill_switch": kill_switch,
    "fix_restart": fix_restart,
    "recon_rerun": recon_rerun,
}


def predict(
    model: str, params: Mapping[str, Any], ctx: PlanContext, assumed: Mapping[str, float]
) -> DryRunResult:
    return MODELS[model](params, ctx, assumed)
