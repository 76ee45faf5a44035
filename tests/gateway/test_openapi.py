from __future__ import annotations

from tests.gateway.conftest import Gateway


async def test_the_openapi_document_declares_bearer_auth_and_each_routes_roles(
    gateway: Gateway,
) -> None:
    document = (await gateway.client.get("/openapi.json")).json()

    assert document["info"]["title"] == "tradeops"
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    export = document["paths"]["/exports"]["post"]
    assert export["security"] == [{"bearer": []}]
    assert export["x-roles"] == ["admin", "compliance"]
    assert "security" not in document["paths"]["/healthz"]["get"]
    error = export["responses"]["403"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/ErrorBody"}


async def test_the_interactive_docs_are_served_without_a_token(gateway: Gateway) -> None:
    response = await gateway.client.get("/docs")

    assert response.status_code == 200
    assert "swagger" in response.text.lower()
