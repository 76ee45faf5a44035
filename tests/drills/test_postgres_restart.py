"""Drill: PostgreSQL restarted under load. The processes reconnect by themselves (none is
restarted), lose nothing acknowledged, and answer 503 / UNAVAILABLE during the outage.

PostgreSQL is "back" once every service's health is SERVING again (the gateway's /readyz 200),
not when its server starts: each service checks its database every TRADEOPS_HEALTH_CHECK_S (1 s)
and until that check its callers' round robin skips it (runtime.health, runtime.retries), so
calls sent in that period, at most one health period after PostgreSQL started, may still fail
cleanly."""

from __future__ import annotations

import time
from collections.abc import Callable

from runtime.pgserver import LocalPostgres
from runtime.stack import Stack
from tests.drills.acks import key_refused
from tests.drills.ledger import Ledger, wait_ready
from tests.drills.load import TIMEOUT_S, Load, wait_for_progress

RESTART_AFTER_S = 2.0
OUTAGE_S = 3.0
WARM_UP_S = 2.0
STALE_FAILURES_AT_MOST = 5  # a few unpinged pooled connections, each failing one call


def test_postgres_restarted_under_load_loses_nothing_and_fails_cleanly_meanwhile(
    stack: Stack, drill_pg: LocalPostgres, load: Load, ledger: Ledger
) -> None:
    pids = {name: proc.pid for name, proc in stack.procs.items()}
    load.start()
    time.sleep(RESTART_AFTER_S)
    drill_pg.stop()  # pg_ctl stop -m fast: every session is cut off
    time.sleep(OUTAGE_S)
    before = load.progress()
    drill_pg.start()
    back = wait_ready(stack)
    wait_for_progress(load, before)
    load.stop()

    assert stack.dead() == []
    assert {n: p.pid for n, p in stack.procs.items()} == pids, "a process was restarted"
    assert load.failures, "the outage was not felt: the drill proved nothing"
    failures = [f for f in load.failures if not key_refused(f)]
    assert {f.status for f in failures} <= {"503", "UNAVAILABLE"}, failures[:5]
    assert all('"UNAVAILABLE"' in f.body for f in failures if f.status == "503")
    assert max(f.seconds for f in failures) < TIMEOUT_S
    late = [f for f in failures if f.at - f.seconds > back]
    assert late == [], "requests sent after health was SERVING again still failed"
    ledger.assert_nothing_lost(load.acks)


def test_after_a_quiet_postgres_restart_the_work_resumes_at_once(
    stack: Stack, drill_pg: LocalPostgres, load: Load, token_for: Callable[..., str]
) -> None:
    """Pooled connections died with the old server. Once health is SERVING again, a pool that is
    not pinged on checkout (the audit writer's, by design) fails a call once per dead
    connection, cleanly; then it works."""
    load.start()
    time.sleep(WARM_UP_S)
    load.stop()
    drill_pg.stop()
    drill_pg.start()
    wait_ready(stack)  # the health ping has a connection of its own: the pools' stay stale
    after = Load(stack, token_for)
    after.start()
    time.sleep(WARM_UP_S)
    after.stop()

    assert {f.status for f in after.failures} <= {"503", "UNAVAILABLE"}, after.failures[:5]
    assert len(after.failures) <= STALE_FAILURES_AT_MOST, after.failures
    assert all(after.progress().values()), after.progress()
