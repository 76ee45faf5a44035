"""Drill: `kill -9` of each process under load, then a restart: nothing acknowledged is lost."""

from __future__ import annotations

import signal
import time

import pytest

from runtime.stack import ORDER, Stack
from tests.drills.acks import key_refused
from tests.drills.ledger import Ledger
from tests.drills.load import Load, wait_for_progress

KILL_AFTER_S = 2.0
DOWN_S = 1.0
# What a client may see while a process is gone: 503 from the gateway, UNAVAILABLE from a
# service, or a broken or refused connection when the gateway itself was killed.
# A keyed create cut off mid-call is refused on retry (409: runtime.idempotency never runs it
# twice); the load gives that key up.
CLEAN_FAILURES = {"503", "UNAVAILABLE", "ConnectError", "RemoteProtocolError", "ReadError"}


@pytest.mark.parametrize("victim", ORDER)
def test_a_process_killed_under_load_loses_nothing_it_acknowledged(
    victim: str, stack: Stack, load: Load, ledger: Ledger
) -> None:
    load.start()
    time.sleep(KILL_AFTER_S)
    before = load.progress()
    stack.stop_one(victim, signal.SIGKILL)
    time.sleep(DOWN_S)
    stack.start_one(victim)
    wait_for_progress(load, before)
    load.stop()

    unclean = [f for f in load.failures if f.status not in CLEAN_FAILURES and not key_refused(f)]
    assert unclean == []
    ledger.assert_nothing_lost(load.acks)
