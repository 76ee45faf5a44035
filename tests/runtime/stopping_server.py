"""A gRPC server started and stopped the way a service's main does it (runtime.grpc_server),
with no database: it prints its port, then serves until SIGTERM. Used by test_graceful_stop."""

from __future__ import annotations

import asyncio
import os

from runtime.auth import TokenVerifier
from runtime.grpc_server import ServiceSpec, serve_until_signalled, start
from runtime.logs import setup_logging
from runtime.settings import AuthSettings


async def main() -> None:
    setup_logging("stopping")
    spec = ServiceSpec(lambda server: None, ["t.Thing"], {})
    running = await start(spec, "127.0.0.1:0", TokenVerifier(AuthSettings.from_env(os.environ)))
    print(running.port, flush=True)
    await serve_until_signalled(running)


if __name__ == "__main__":
    asyncio.run(main())
