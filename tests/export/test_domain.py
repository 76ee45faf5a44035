from __future__ import annotations

import pytest

from runtime.errors import InvalidArgument
from services.export.domain import (
    ExportState,
    ExtractError,
    check_next_seq,
    page_limit,
    parse_id,
    request_export,
)


def test_a_new_export_is_requested_and_names_its_file_after_its_id() -> None:
    export = request_export("audit_extract", 0, -1, "carol")

    assert export.state is ExportState.REQUESTED
    assert export.file_name == f"{export.id}.jsonl"


@pytest.mark.parametrize(("from_seq", "to_seq"), [(0, 0), (0, -1), (3, 7), (7, -1)])
def test_valid_ranges_are_accepted(from_seq: int, to_seq: int) -> None:
    assert request_export("audit_extract", from_seq, to_seq, "carol").to_seq == to_seq


@pytest.mark.parametrize(
    ("kind", "from_seq", "to_seq"),
    [("", 0, -1), ("audit_extract", -1, -1), ("audit_extract", 4, 3), ("audit_extract", 0, -5)],
)
def test_invalid_requests_are_refused(kind: str, from_seq: int, to_seq: int) -> None:
    with pytest.raises(InvalidArgument):
        request_export(kind, from_seq, to_seq, "carol")


def test_an_extract_must_be_gapless_and_stay_inside_its_range() -> None:
    check_next_seq(4, 4, 9)
    with pytest.raises(ExtractError, match="expected"):
        check_next_seq(5, 4, 9)
    with pytest.raises(ExtractError, match="past"):
        check_next_seq(10, 10, 9)


@pytest.mark.parametrize(("asked", "given"), [(0, 50), (7, 7), (500, 500), (10_000, 500)])
def test_list_limits_default_to_50_and_are_capped_at_500(asked: int, given: int) -> None:
    assert page_limit(asked) == given


def test_a_negative_limit_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        page_limit(-1)


def test_a_malformed_export_id_is_an_invalid_argument() -> None:
    with pytest.raises(InvalidArgument):
        parse_id("../etc/passwd")
