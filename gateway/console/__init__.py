"""The console: web pages for the people in the loop, served at /console/."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Wires the console into the gateway (imported when called: nothing at import time)."""
    from gateway.console import routes

    routes.install(app)
