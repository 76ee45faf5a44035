"""The gateway's lifespan: what lives as long as the app is frozen out of the garbage
collector's full collections while it serves (runtime.collector: once per process, so an app
started again, as here in the tests, freezes nothing more)."""

from __future__ import annotations

import gc

from tests.gateway.conftest import running_gateway
from tests.keys import Keys


async def test_startup_objects_are_frozen_while_serving(keys: Keys) -> None:
    async with running_gateway(keys) as gateway:
        # An unfrozen full collection walked every route, model and module: 80 ms mid-request.
        frozen = gc.get_freeze_count()
        assert frozen > 10_000
        response = await gateway.client.get("/incidents", headers=gateway.auth("viewer"))
        assert response.status_code == 200
    async with running_gateway(keys):
        assert gc.get_freeze_count() <= frozen  # frozen objects freed by refcount leave it
