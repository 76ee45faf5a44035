"""The drills' own check must be able to fail: an acknowledged thing that is not there, or an
event missing from the audit log, is reported."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.drills.ledger import Ledger
from tests.drills.load import Load

LOAD_S = 1.0


def test_the_ledger_reports_an_acknowledged_incident_that_does_not_exist(
    load: Load, ledger: Ledger
) -> None:
    load.start(exports=0)
    time.sleep(LOAD_S)
    load.stop()
    ledger.assert_nothing_lost(load.acks)

    load.acks.incidents.append(str(uuid.uuid4()))
    with pytest.raises(AssertionError, match="incidents: 1 acknowledged but missing"):
        ledger.assert_nothing_lost(load.acks)


def test_the_ledger_reports_an_acknowledged_event_missing_from_the_audit_log(
    load: Load, ledger: Ledger
) -> None:
    load.start(flows=0, exports=0)
    time.sleep(LOAD_S)
    load.stop()

    load.acks.events.append(str(uuid.uuid4()))
    with pytest.raises(AssertionError, match="1 acknowledged events missing"):
        ledger.assert_nothing_lost(load.acks)
