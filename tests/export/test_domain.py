from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.protobuf.json_format import MessageToDict

from runtime.errors import InvalidArgument
from services.export.clients.audit_records import as_dict as _as_dict
from services.export.domain.exports import Checkpoint, Export, ExportState, ExtractError
from services.export.domain.requests import (
    ExportRequest,
    check_complete,
    check_next_seq,
    new_export,
    page_limit,
    parse_id,
)
from tests.export.conftest import audit_record
from tradeops.audit.v1 import audit_service_pb2 as audit_pb2


def request_export(kind: str, from_seq: int, to_seq: int, by: str, **more: object) -> Export:
    return new_export(ExportRequest(kind, from_seq=from_seq, to_seq=to_seq, **more), by)  # type: ignore[arg-type]


def test_a_new_export_is_requested_as_json_lines_in_a_directory_named_after_its_id() -> None:
    export = request_export("audit_extract", 0, -1, "carol")

    assert export.state is ExportState.REQUESTED
    assert (export.directory, export.format) == (export.id, "jsonl")


@pytest.mark.parametrize(("from_seq", "to_seq"), [(0, 0), (0, -1), (3, 7), (7, -1)])
def test_valid_ranges_are_accepted(from_seq: int, to_seq: int) -> None:
    assert request_export("audit_extract", from_seq, to_seq, "carol").to_seq == to_seq


@pytest.mark.parametrize(
    ("kind", "from_seq", "to_seq"),
    [
        ("", 0, -1),
        ("audit_extract", -1, -1),
        ("audit_extract", 4, 3),
        ("audit_extract", 0, -5),
        ("actions_report", 3, 5),
    ],
)
def test_invalid_requests_are_refused(kind: str, from_seq: int, to_seq: int) -> None:
    with pytest.raises(InvalidArgument):
        request_export(kind, from_seq, to_seq, "carol")


SINCE = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("more", "message"),
    [
        ({"format": "xml"}, "format must be one of"),
        ({"parameters": {"colour": "red"}}, "unknown parameters"),
        ({"since": SINCE, "until": SINCE}, "until must be later"),
        ({"client_key": "k" * 201}, "client_key"),
    ],
)
def test_bad_formats_filters_windows_and_keys_are_refused(
    more: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidArgument, match=message):
        request_export("actions_report", 0, -1, "carol", **more)


def test_an_audit_extract_takes_a_seq_range_or_a_time_range_not_both() -> None:
    assert request_export("audit_extract", 0, -1, "carol", since=SINCE).by_time
    with pytest.raises(InvalidArgument, match="not both"):
        request_export("audit_extract", 3, 9, "carol", since=SINCE)


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


CHECKPOINT = Checkpoint(tree_size=10, root_hash="ab" * 32, note="origin\n10\nq6s=\n\n")


def test_an_open_ended_export_is_cut_at_the_checkpoint() -> None:
    export = request_export("audit_extract", 4, -1, "carol").cut_at(CHECKPOINT)

    assert (export.to_seq, export.checkpoint_size, export.checkpoint_root) == (9, 10, "ab" * 32)
    assert export.checkpoint_file == "checkpoint.txt"


@pytest.mark.parametrize(("from_seq", "to_seq"), [(0, 10), (10, -1), (12, 20)])
def test_records_past_the_checkpoint_are_refused(from_seq: int, to_seq: int) -> None:
    with pytest.raises(InvalidArgument, match=r"\(size 10\).*to_seq <= 9"):
        request_export("audit_extract", from_seq, to_seq, "carol").cut_at(CHECKPOINT)


def test_without_a_checkpoint_the_range_stays_as_asked() -> None:
    export = request_export("audit_extract", 3, -1, "carol")

    assert export.cut_at(None) == export


def test_an_extract_cut_at_a_checkpoint_must_hold_every_record_of_its_range() -> None:
    export = request_export("audit_extract", 2, -1, "carol").cut_at(CHECKPOINT)
    check_complete(export, 8)
    with pytest.raises(ExtractError, match="7 records where 8 exist"):
        check_complete(export, 7)
    check_complete(request_export("audit_extract", 2, -1, "carol"), 0)


@pytest.mark.parametrize("seq", [0, 7])
def test_audit_records_map_to_json_exactly_as_the_protobuf_library_maps_them(seq: int) -> None:
    record = audit_record(seq)
    bare = audit_pb2.AuditRecord(seq=seq)  # unset messages are left out, as the library does

    for message in (record, bare):
        assert _as_dict(message) == MessageToDict(
            message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
        )
