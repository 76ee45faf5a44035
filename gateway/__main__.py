"""`python -m gateway`: settings from the environment, tracing, then uvicorn."""

from __future__ import annotations

import sys

import uvicorn

from gateway.app import create_app
from runtime.logs import setup_logging
from runtime.process_args import check_arguments, settings_failed
from runtime.settings import GatewaySettings, SettingsError
from runtime.telemetry import instrument_grpc, setup_metrics, setup_tracing, shutdown_tracing


def main() -> None:
    check_arguments("gateway", "gateway", sys.argv[1:])
    setup_logging("gateway")
    try:
        settings = GatewaySettings.from_env()
    except SettingsError as exc:
        raise settings_failed("gateway", exc) from None
    setup_tracing("tradeops-gateway")
    # Before create_app: the FastAPI instrumentation takes its meter when it instruments.
    setup_metrics("tradeops-gateway")
    # Before create_app: channels opened afterwards get the client interceptors.
    instrument_grpc()
    try:
        uvicorn.run(
            create_app(settings),
            host=settings.listen_host,
            port=settings.listen_port,
            log_level="info",
            # None: uvicorn keeps its hands off logging, its records reach our JSON handler.
            log_config=None,
            access_log=False,  # gateway.access_log writes them, inside the request's span
            # The client address is the connection's: X-Forwarded-For is whatever a caller
            # writes, and refusals are counted per address (runtime.refusals).
            proxy_headers=False,
        )
    finally:
        shutdown_tracing()


if __name__ == "__main__":
    main()
