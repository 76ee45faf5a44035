from __future__ import annotations

import dataclasses

import pytest

from runtime.errors import InvalidArgument
from services.audit.log.domain.records import Event
from services.audit.log.domain.validation import validate
from tests.audit.factories import event


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (event(event_id="not-a-uuid"), "is not a UUID"),
        (event(action=" "), "action is required"),
        (event(payload_json="{nope"), "not valid JSON"),
        (event(payload_json="[1, 2]"), "must be a JSON object"),
        (event(payload_json=""), "not valid JSON"),
        (event(payload_json='{"x": NaN}'), "not valid JSON"),
        (event(target="action/\x00"), "NUL"),
    ],
)
def test_one_invalid_event_rejects_the_batch_and_names_it(bad: Event, message: str) -> None:
    with pytest.raises(InvalidArgument, match=rf"events\[1\]: .*{message}"):
        validate([event(), bad, event()])


def test_event_ids_are_normalised_to_lowercase_canonical_form() -> None:
    shouted = event(event_id="0B7E9A52-3C1D-4A8E-9F7B-2D6C5E4F3A10")

    assert validate([shouted])[0].event_id == "0b7e9a52-3c1d-4a8e-9f7b-2d6c5e4f3a10"


def test_a_naive_occurred_at_is_refused() -> None:
    naive = dataclasses.replace(event(), occurred_at=event().occurred_at.replace(tzinfo=None))

    with pytest.raises(InvalidArgument, match="time zone"):
        validate([naive])
