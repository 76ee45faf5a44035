"""A retry of a keyed CreateExport whose first call was interrupted is told where to look."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from runtime.db import Database
from runtime.idempotency import Claim, Idempotent, OutcomeUnknown
from services.export.__main__ import CREATE, KEYED, LOOKUPS
from services.export.tables import idempotency_keys


async def test_a_retry_after_an_interrupted_create_is_told_to_list_by_client_key(
    export_db: Database,
) -> None:
    async with export_db.transaction() as session:
        row = dict(caller="carol", method=CREATE, key="nightly-7", request_sha256="0" * 64)
        await session.execute(insert(idempotency_keys).values(**row, state="unknown"))
    claim = Claim(
        Idempotent(export_db, idempotency_keys, KEYED, LOOKUPS), "carol", CREATE, "nightly-7"
    )

    with pytest.raises(OutcomeUnknown) as refused:
        await claim.take("0" * 64)

    assert "GET /exports?client_key=" in str(refused.value)
