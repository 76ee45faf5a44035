"""GET /exports?client_key=...: how a client finds the result of an interrupted keyed create."""

from __future__ import annotations

from tests.gateway.conftest import Gateway, assert_forwarded
from tradeops.common.v1 import common_pb2
from tradeops.export.v1 import export_service_pb2 as pb


async def test_listing_exports_by_client_key_forwards_the_key(gateway: Gateway) -> None:
    headers = gateway.auth("viewer")

    response = await gateway.client.get("/exports?client_key=march-actions", headers=headers)

    assert response.status_code == 200
    assert assert_forwarded(gateway, "ListExports", headers) == pb.ListExportsRequest(
        kind="", client_key="march-actions", page=common_pb2.PageRequest(page_size=50)
    )


async def test_an_empty_or_overlong_client_key_is_refused_before_any_call(
    gateway: Gateway,
) -> None:
    headers = gateway.auth("viewer")

    for key in ("", "k" * 201):
        response = await gateway.client.get(f"/exports?client_key={key}", headers=headers)
        assert response.status_code == 422
        assert "client_key" in response.text
    assert not gateway.recorder.calls
