"""The REST gateway: bearer authentication, one RBAC table, REST-to-gRPC translation, OpenAPI.

It owns no data. Every route forwards the caller's own token to the service it calls, so the
services re-check identity and roles themselves (desk systems may call them directly)."""
