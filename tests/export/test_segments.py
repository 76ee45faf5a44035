"""Large extracts read as concurrent segments give the very same file as one stream."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pytest

from runtime.auth import Principal
from services.export.domain.exports import ExportState
from services.export.domain.requests import ExportRequest
from services.export.service import segments
from services.export.service.exports import Exporter, create_export
from tests.export.conftest import FakeAudit, audit_record, signed_checkpoint


@pytest.fixture
def carol(principal_for: Callable[..., Principal]) -> Principal:
    return principal_for("carol", "compliance")


@pytest.fixture
def small_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(segments, "MIN_SEGMENT", 2)
    monkeypatch.setattr(segments, "STREAMS", 4)


@pytest.mark.parametrize("format", ["jsonl", "csv"])
async def test_a_segmented_extract_equals_the_single_stream_one(
    exporter: Exporter,
    fake_audit: FakeAudit,
    carol: Principal,
    format: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_audit.checkpoint = signed_checkpoint(5)
    single = await create_export(exporter, ExportRequest("audit_extract", format=format), carol)
    monkeypatch.setattr(segments, "MIN_SEGMENT", 2)
    monkeypatch.setattr(segments, "STREAMS", 4)
    split = await create_export(exporter, ExportRequest("audit_extract", format=format), carol)

    def data(export_id: str, name: str) -> bytes:
        return (exporter.export_dir / export_id / name).read_bytes()

    assert len(fake_audit.authorizations) == 1 + 2  # one stream, then two segments
    assert data(split.id, split.file_name) == data(single.id, single.file_name)
    assert (split.sha256, split.record_count) == (single.sha256, 5)
    assert sorted(p.name for p in (exporter.export_dir / split.id).iterdir()) == sorted(
        [
            split.file_name,
            "checkpoint.txt",
            "proofs.json",
            "SHA256SUMS",
            "key.pub.pem",
            "manifest.json",
            "manifest.json.sig",
        ]
    )
    if format == "csv":
        rows = list(csv.reader(io.StringIO(data(split.id, split.file_name).decode())))
        assert [row[0] for row in rows] == ["seq", "0", "1", "2", "3", "4"]


async def test_a_gap_inside_a_segment_fails_the_export_and_leaves_nothing(
    exporter: Exporter, fake_audit: FakeAudit, carol: Principal, small_segments: None
) -> None:
    fake_audit.checkpoint = signed_checkpoint(5)
    fake_audit.records = [audit_record(seq) for seq in (0, 1, 2, 4)]
    export = await create_export(exporter, ExportRequest("audit_extract"), carol)

    assert export.state is ExportState.FAILED
    assert "seq 4 where 3 was expected" in export.failure_reason
    assert list(exporter.export_dir.iterdir()) == []


async def test_a_short_segment_fails_the_export(
    exporter: Exporter, fake_audit: FakeAudit, carol: Principal, small_segments: None
) -> None:
    fake_audit.checkpoint = signed_checkpoint(5)
    fake_audit.records = [audit_record(seq) for seq in (0, 1, 3)]
    export = await create_export(exporter, ExportRequest("audit_extract"), carol)

    assert export.state is ExportState.FAILED
    assert "ended the stream at seq" in export.failure_reason


async def test_an_extract_travels_in_pages_of_records_not_one_message_each(
    exporter: Exporter, fake_audit: FakeAudit, carol: Principal
) -> None:
    fake_audit.records = [audit_record(seq) for seq in range(2500)]
    fake_audit.checkpoint = signed_checkpoint(2500)
    fake_audit.page_size = 1000
    export = await create_export(exporter, ExportRequest("audit_extract"), carol)

    lines = (exporter.export_dir / export.id / export.file_name).read_bytes().splitlines()
    assert (export.state, export.record_count, len(lines)) == (ExportState.SIGNED, 2500, 2500)
    assert fake_audit.pages_sent == 3
    assert [json.loads(line)["seq"] for line in lines[998:1002]] == ["998", "999", "1000", "1001"]
