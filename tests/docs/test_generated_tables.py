"""Issue 22: the README's reference tables are what `make docs` makes from the code (docgen/),
and the generator refuses a catalog that disagrees with the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from docgen import events, routes, service_readmes, settings
from docgen.__main__ import MAKERS, README
from docgen.catalog import DocsError
from docgen.readme import parts, regenerated
from docgen.source import ROOT
from gateway.rbac import PUBLIC, RBAC


def test_the_readme_tables_are_what_make_docs_makes() -> None:
    text = README.read_text()
    before, after = parts(text), parts(regenerated(text, MAKERS))
    stale = [name for name in after if before[name] != after[name]]
    assert not stale, f"README.md differs from `make docs` in {stale}: run `make docs`"
    assert set(before) == {"routes", "settings", "audit-events"}


@pytest.mark.parametrize(
    ("wrong", "right"),
    [
        # A role the table does not grant.
        (
            "| compliance, admin | `POST /agent/compliance/run`",
            "| admin | `POST /agent/compliance/run`",
        ),
        # A default that is not the code's.
        ("| `TRADEOPS_RPC_TIMEOUT_S` | `5` |", "| `TRADEOPS_RPC_TIMEOUT_S` | `10` |"),
        # An event type the code does not write.
        ("| `ops.action.approved` |", "| `ops.action.accepted` |"),
    ],
)
def test_a_wrong_line_in_a_table_is_caught(wrong: str, right: str) -> None:
    text = README.read_text()
    assert wrong in text
    edited = text.replace(wrong, right, 1)
    assert regenerated(edited, MAKERS) != edited


def test_every_route_of_the_rbac_table_is_in_the_route_table_once() -> None:
    table = routes.table()
    for method, path in [*RBAC, *PUBLIC]:
        assert len(re.findall(re.escape(f"`{method} {path}`"), table)) == 1, (method, path)


def test_every_variable_the_code_reads_is_in_the_configuration_table() -> None:
    table = settings.table()
    for name in settings.reads():
        if settings.NAME.fullmatch(name) and "{}" not in name and not name.endswith("_"):
            internal = name in ("TRADEOPS_EMBEDDED_PG_URL", "TRADEOPS_COMPOSE_DIR")
            assert internal or f"`{name}`" in table, name


def test_a_variable_missing_from_the_catalog_stops_the_generator() -> None:
    code = settings.reads()
    code["TRADEOPS_SOMETHING_NEW"] = settings.Read(["runtime/new.py:1"], {"7"})
    rows = [{"names": ["TRADEOPS_RPC_TIMEOUT_S"], "meaning": "m"}]
    with pytest.raises(DocsError, match=r"TRADEOPS_SOMETHING_NEW \(runtime/new.py:1\) is not in"):
        settings._check(rows, {}, code)


def test_a_catalog_name_the_code_never_reads_stops_the_generator() -> None:
    code = {"TRADEOPS_RPC_TIMEOUT_S": settings.Read(["runtime/settings.py:1"], {"5"})}
    rows = [{"names": ["TRADEOPS_RPC_TIMEOUT_S", "TRADEOPS_GONE"], "meaning": "m"}]
    with pytest.raises(DocsError, match="lists TRADEOPS_GONE, which no product code reads"):
        settings._check(rows, {}, code)


def test_a_shown_default_must_carry_the_code_default() -> None:
    code = {"TRADEOPS_RPC_TIMEOUT_S": settings.Read(["runtime/settings.py:1"], {"5"})}
    rows = [{"names": ["TRADEOPS_RPC_TIMEOUT_S"], "default": "`10`", "meaning": "m"}]
    with pytest.raises(DocsError, match="the code's default `5` is not in"):
        settings._check(rows, {}, code)


def test_two_defaults_for_one_variable_stop_the_generator() -> None:
    code = {"TRADEOPS_RPC_TIMEOUT_S": settings.Read(["a.py:1", "b.py:2"], {"5", "10"})}
    rows = [{"names": ["TRADEOPS_RPC_TIMEOUT_S"], "meaning": "m"}]
    with pytest.raises(DocsError, match="several defaults in the code"):
        settings._check(rows, {}, code)


def test_an_event_type_and_the_catalog_must_agree() -> None:
    code = {"ops.action.approved": "x.py:1", "ops.action.new_thing": "y.py:2"}
    wrong = list(events._differences({"ops.action.approved": "", "ops.gone": ""}, {}, code))
    assert wrong == [
        "ops.action.new_thing (y.py:2) is in neither list of docgen/audit_events.toml",
        "docgen/audit_events.toml lists ops.gone, which no product code spells",
    ]


def test_the_event_scan_finds_what_services_record(tmp_path: Path) -> None:
    found = events.spelled()
    for name in (
        "ops.action.approved",
        "agent.triage.decided",
        "export.signed",
        "{}.access.denied",
    ):
        assert name in found
    assert "export.exports.id" in found  # spelled, and listed as not an event, with why


def test_a_missing_marker_is_an_error() -> None:
    text = README.read_text().replace("<!-- make docs: routes -->\n", "", 1)
    with pytest.raises(DocsError, match="markers missing: \\['routes'\\]"):
        regenerated(text, MAKERS)


def test_the_service_readmes_list_what_their_code_reads() -> None:
    service_readmes.check()


def test_a_wrong_line_in_a_service_readme_is_caught() -> None:
    code, catalog = settings.reads(), settings.catalog_names()
    text = (ROOT / "services/ops/README.md").read_text()
    assert list(service_readmes.problems("ops", text, code, catalog)) == []
    row = "| `TRADEOPS_OUTBOX_POLL_S` | `0.5` |"
    wrong = text.replace(row, "| `TRADEOPS_OUTBOX_POLL_S` | `5` |")
    assert list(service_readmes.problems("ops", wrong, code, catalog)) == [
        "services/ops/README.md: TRADEOPS_OUTBOX_POLL_S defaults to `0.5` in the code, not '`5`'"
    ]
    gone = text.replace(row, "| `TRADEOPS_OUTBOX_POLL` | `0.5` |")
    assert list(service_readmes.problems("ops", gone, code, catalog)) == [
        "services/ops/README.md lists TRADEOPS_OUTBOX_POLL, which is not a setting the code reads"
    ]
    webhooks = "| `TRADEOPS_OPS_WEBHOOKS` |"  # read by the ops service's own code
    unlisted = "\n".join(line for line in text.splitlines() if not line.startswith(webhooks))
    assert [p.split(" (")[0] for p in service_readmes.problems("ops", unlisted, code, catalog)] == [
        "services/ops/README.md does not list TRADEOPS_OPS_WEBHOOKS"
    ]


def test_a_shortened_name_in_a_service_readme_is_the_one_the_code_reads() -> None:
    shown = service_readmes.rows(
        (ROOT / "services/agent/README.md").read_text(), set(settings.reads())
    )
    assert "TRADEOPS_AGENT_PROBE_BATCH" in shown
    assert "TRADEOPS_AGENT_TRIGGER_BACKOFF_MAX_S" in shown
