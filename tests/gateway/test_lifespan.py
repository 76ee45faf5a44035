"""The gateway's lifespan: what lives as long as the app is frozen out of the garbage
collector's full collections while it serves, and handed back when it stops."""

from __future__ import annotations

import gc

from tests.gateway.conftest import running_gateway
from tests.keys import Keys


async def test_startup_objects_are_frozen_while_serving_and_released_on_shutdown(
    keys: Keys,
) -> None:
    gc.unfreeze()
    async with running_gateway(keys) as gateway:
        # An unfrozen full collection walked every route, model and module: 80 ms mid-request.
        assert gc.get_freeze_count() > 10_000
        response = await gateway.client.get("/incidents", headers=gateway.auth("viewer"))
        assert response.status_code == 200
    assert gc.get_freeze_count() == 0
