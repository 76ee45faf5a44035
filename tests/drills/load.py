"""Load for the drills: a few clients doing real work through the gateway and straight over
gRPC, recording every request that was acknowledged (2xx / OK) with its id, and every one that
failed with what the client saw and how long it took."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx

from runtime.clients import SERVICE_CONFIG
from runtime.stack import Stack
from tests.drills import bodies
from tests.drills.acks import Acks, Failure, key_refused
from tradeops.audit.v1 import audit_service_pb2 as audit_pb2
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc

TIMEOUT_S = 10.0
RECOVERY_TIMEOUT_S = 30.0
PAUSE_AFTER_FAILURE_S = 0.05
EVENTS_PER_CALL = 5
REPORT_WINDOW_S = 5.0


class Load:
    def __init__(self, stack: Stack, token_for: Callable[..., str]) -> None:
        self._stack = stack
        self._tokens = {
            name: {"Authorization": f"Bearer {token_for(name, role)}"}
            for name, role in (("olga", "ops"), ("bob", "ops"), ("carol", "compliance"))
        }
        self._service_token = token_for("svc:drill-producer", "service")
        self.acks = Acks()
        self.failures: list[Failure] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, *, flows: int = 3, exports: int = 1, producers: int = 1) -> None:
        work = [self._flow] * flows + [self._exports] * exports + [self._produce] * producers
        self._threads = [threading.Thread(target=self._forever, args=(w,)) for w in work]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=2 * TIMEOUT_S)
        assert not any(t.is_alive() for t in self._threads), "a load client hung"

    def progress(self) -> dict[str, int]:
        with self._lock:
            return self.acks.counts()

    def headers(self, who: str) -> dict[str, str]:
        return dict(self._tokens[who])

    def _forever(self, work: Callable[[], None]) -> None:
        while not self._stopping.is_set():
            work()

    @contextmanager
    def _acked(self) -> Iterator[Acks]:
        """The acks, for the block to add to under the lock."""
        with self._lock:
            yield self.acks

    def _fail(self, failure: Failure) -> Failure:
        with self._lock:
            self.failures.append(failure)
        time.sleep(PAUSE_AFTER_FAILURE_S)
        return failure

    # Through the gateway: an incident, its triage, and the proposed action's approval.
    def _flow(self) -> None:
        with httpx.Client(base_url=self._stack.gateway_url(), timeout=TIMEOUT_S) as api:
            while not self._stopping.is_set():
                self._one_flow(api)

    def _one_flow(self, api: httpx.Client) -> None:
        incident = self._post(api, "/incidents", bodies.incident(), "olga", "incident")
        if isinstance(incident, Failure):
            return
        with self._acked() as acks:
            acks.incidents.append(incident["id"])
        body = {"incident_id": incident["id"]}
        decision = self._post(api, "/agent/triage", body, "olga", "triage")
        if isinstance(decision, Failure):
            return
        with self._acked() as acks:
            acks.decisions.append(decision["id"])
        action_id = decision.get("action_id", "")
        if not action_id:  # ops was unreachable: the agent proposes it later, by itself
            return
        path = f"/agent/ops/actions/{action_id}/approve"
        if not isinstance(self._post(api, path, {"comment": "drill"}, "bob", "approve"), Failure):
            with self._acked() as acks:
                acks.approvals.append(action_id)

    # Exports carry an Idempotency-Key and are retried until acknowledged, as clients do.
    def _exports(self) -> None:
        key = f"drill-{uuid.uuid4()}"
        # A short window: a report over every action ever made would grow with the drill.
        since = datetime.now(UTC) - timedelta(seconds=REPORT_WINDOW_S)
        body = {"kind": "actions_report", "since": since.isoformat()}
        with httpx.Client(base_url=self._stack.gateway_url(), timeout=TIMEOUT_S) as api:
            while not self._stopping.is_set():
                export = self._post(api, "/exports", body, "carol", "export", key)
                if isinstance(export, Failure):
                    if key_refused(export):
                        with self._lock:
                            self.acks.abandoned.append(key)
                        return
                    continue
                with self._acked() as acks:
                    acks.exports[key] = export["id"]
                return

    def _post(
        self, api: httpx.Client, path: str, body: Any, who: str, what: str, key: str = ""
    ) -> dict[str, Any] | Failure:
        """The reply's body when acknowledged, else the failure (also recorded)."""
        headers = {**self._tokens[who], **({"Idempotency-Key": key} if key else {})}
        started = time.monotonic()
        try:
            reply = api.post(path, json=body, headers=headers)
        except httpx.TransportError as exc:
            return self._fail(Failure(what, type(exc).__name__, time.monotonic() - started))
        if reply.is_success:
            return dict(reply.json())
        seconds = time.monotonic() - started
        return self._fail(Failure(what, str(reply.status_code), seconds, reply.text))

    # Straight to the audit service, as a desk system would: a failed call is sent again with
    # the same event ids (AppendEvents is idempotent on them) until it is acknowledged.
    def _produce(self) -> None:
        metadata = (("authorization", f"Bearer {self._service_token}"),)
        events = [bodies.event() for _ in range(EVENTS_PER_CALL)]
        request = audit_pb2.AppendEventsRequest(events=events)
        # Round robin over audit's replicas, as runtime.clients' channels go.
        options = [SERVICE_CONFIG]
        with grpc.insecure_channel(self._stack.address("audit"), options=options) as channel:
            stub = audit_grpc.AuditServiceStub(channel)
            while not self._stopping.is_set():
                started = time.monotonic()
                try:
                    stub.AppendEvents(request, timeout=TIMEOUT_S, metadata=metadata)
                except grpc.RpcError as exc:
                    code = exc.code().name if isinstance(exc, grpc.Call) else "RpcError"
                    self._fail(Failure("append", code, time.monotonic() - started))
                    continue
                with self._acked() as acks:
                    acks.events.extend(event.event_id for event in request.events)
                return


def wait_for_progress(load: Load, before: dict[str, int]) -> None:
    """Waits until every kind of work that had been acknowledged before is acknowledged again:
    the system recovered on its own."""
    deadline = time.monotonic() + RECOVERY_TIMEOUT_S
    while time.monotonic() < deadline:
        now = load.progress()
        if all(now[kind] > count for kind, count in before.items() if count):
            return
        time.sleep(0.1)
    raise AssertionError(f"no recovery: acknowledged {before} before, {load.progress()} now")
