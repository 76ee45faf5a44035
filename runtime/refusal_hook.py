"""The refusal hook every service gives its guard: refused calls are recorded per source and
window as runtime.refusals describes, through two recorders the service supplies (one refusal,
one closed window). Counting a refusal touches no database, so a flood of refused calls costs
the service a dictionary look-up each, and its audit log a few records a minute."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from runtime.auth import Principal
from runtime.clipping import clip
from runtime.grpc_guard import RefusalHook, current_peer
from runtime.refusals import RefusalSettings, RefusalWindows, Tally, source_of

log = logging.getLogger(__name__)
RETRY_S = 1.0
STOP_S = 2.0  # on stop, how long the windows still open may take to be recorded

# Records a closed window that counted refusals (Tally.event has its action, target, payload).
WindowHook = Callable[[Tally[Principal | None]], Awaitable[None]]


class AggregatedRefusals:
    """A RefusalHook; `run` is the worker that records windows as they close, and on stop the
    ones still open (grpc_server.start runs it beside the service's own workers)."""

    def __init__(
        self, record: RefusalHook, record_window: WindowHook, settings: RefusalSettings
    ) -> None:
        self._record, self._record_window = record, record_window
        self.windows: RefusalWindows[Principal | None] = RefusalWindows(settings)
        self._noted = asyncio.Event()

    async def __call__(self, method: str, principal: Principal | None, reason: str) -> None:
        caller, method, reason = clipped(principal), clip(method), clip(reason)
        source = source_of(caller.subject if caller else None, peer_host(current_peer()))
        on_its_own = self.windows.note(source, caller, clip(f"rpc{method}"), reason)
        self._noted.set()
        if on_its_own:
            await self._record(method, caller, reason)

    async def run(self) -> None:
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.windows.next_close_in()):
                        await self._noted.wait()
                self._noted.clear()
                if not await self._record_closed(self.windows.closed()):
                    await asyncio.sleep(RETRY_S)
        except asyncio.CancelledError:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STOP_S):
                    await self._record_closed(self.windows.closed(everything=True))
            raise

    async def _record_closed(self, closed: list[Tally[Principal | None]]) -> bool:
        for index, tally in enumerate(closed):
            try:
                await self._record_window(tally)
            except Exception:
                log.exception("could not record %d refusals from %s", tally.count, tally.source)
                for unrecorded in closed[index:]:
                    self.windows.retry(unrecorded)
                return False
        return True


def clipped(principal: Principal | None) -> Principal | None:
    """The caller as a refusal records and remembers it: cut to size, without its token."""
    if principal is None:
        return None
    return Principal(clip(principal.subject), principal.roles, clip(principal.desk))


def peer_host(peer: str) -> str:
    """The host of a gRPC peer ("ipv4:10.0.0.7:51234", "ipv6:%5B::1%5D:51234"), without the
    port, which a caller changes with every connection."""
    kind, _, address = peer.partition(":")
    if kind in ("ipv4", "ipv6"):
        return unquote(address.rpartition(":")[0]).strip("[]")
    return peer
