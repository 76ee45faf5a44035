"""Two export service processes (replicas) sharing one database and one S3 bucket with Object
Lock, each with an export directory of its own, as two pods with their own emptyDir would be:
what one replica made, the other verifies from the bucket, and verifies and redelivers after
its delivered copy was damaged. Real processes, real gRPC, a real PostgreSQL and moto's S3."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from runtime.clients import bearer
from runtime.migrate import upgrade
from runtime.pgserver import LocalPostgres, free_port
from runtime.provision import owner_url, provision, service_url
from runtime.settings import SERVICES
from runtime.stack import Stack
from tests.e2e.conftest import _stack_env
from tests.export.s3 import CREDENTIALS, MotoS3, moto_s3
from tests.keys import Keys
from tradeops.export.v1 import export_service_pb2 as pb
from tradeops.export.v1 import export_service_pb2_grpc as pb_grpc

__all__ = ["moto_s3"]
Metadata = tuple[tuple[str, str], ...]


@pytest.fixture(scope="module")
def own_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPostgres]:
    server = LocalPostgres(tmp_path_factory.mktemp("replicas-pg") / "data", durable=False)
    server.start()
    try:
        provision(server.url())
        for service in ("audit", "export"):
            upgrade(service, owner_url(server.url(), service))
        yield server
    finally:
        server.stop()


class Replicas:
    """The audit service and two export replicas; `stubs[i]` calls replica i."""

    def __init__(self, first: Stack, second: Stack, vault: Path, bucket: str) -> None:
        self.stacks, self.vault, self.bucket = (first, second), vault, bucket
        self.channels = [grpc.insecure_channel(s.address("export")) for s in self.stacks]
        self.stubs = [pb_grpc.ExportServiceStub(c) for c in self.channels]

    def export_dir(self, replica: int) -> Path:
        return Path(self.stacks[replica].env["TRADEOPS_EXPORT_DIR"])


@pytest.fixture(scope="module")
def replicas(
    own_pg: LocalPostgres,
    moto_s3: MotoS3,
    tmp_path_factory: pytest.TempPathFactory,
    keys: Keys,
) -> Iterator[Replicas]:
    home = tmp_path_factory.mktemp("replicas")
    bucket = moto_s3.bucket()
    vault = home / "vault"
    urls = {service: service_url(own_pg.url(), service) for service in SERVICES}
    env = {**os.environ, **_stack_env(urls, home, "", keys), **CREDENTIALS}
    env.update({"OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none"})
    env.update({"TRADEOPS_TRACING": "off", "OTEL_EXPORTER_OTLP_ENDPOINT": ""})
    env.update(
        {
            "TRADEOPS_EXPORT_S3_BUCKET": bucket,
            "TRADEOPS_EXPORT_S3_ENDPOINT_URL": moto_s3.url,
            "TRADEOPS_EXPORT_DESTINATIONS": (
                f'[{{"type": "directory", "name": "vault", "path": "{vault}"}}]'
            ),
        }
    )
    first = Stack({**env, "TRADEOPS_EXPORT_DIR": str(home / "a" / "exports")}, home / "logs-a")
    second_env = {
        **env,
        "TRADEOPS_EXPORT_DIR": str(home / "b" / "exports"),
        "TRADEOPS_EXPORT_ADDR": f"127.0.0.1:{free_port()}",
        "TRADEOPS_EXPORT_METRICS_PORT": str(free_port()),
    }
    second = Stack(second_env, home / "logs-b")
    try:
        first.log_dir.mkdir(parents=True)
        second.log_dir.mkdir(parents=True)
        first.start_one("audit")
        first.start_one("export")  # creates the signing key both replicas sign with
        second.start_one("export")
        running = Replicas(first, second, vault, bucket)
        yield running
        for channel in running.channels:
            channel.close()
    finally:
        second.stop()
        first.stop()


@pytest.fixture
def carol(token_for: Callable[..., str]) -> Metadata:
    return bearer(token_for("carol", "compliance"))


def create(stub: Any, carol: Metadata, destination: str = "") -> Any:
    request = pb.CreateExportRequest(
        kind="audit_extract",
        from_seq=0,
        to_seq=-1,
        format="jsonl",
        destination=destination,
        client_key=str(uuid.uuid4()),
    )
    return stub.CreateExport(request, metadata=carol, timeout=60)


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def in_bucket(moto_s3: MotoS3, bucket: str, export_id: str) -> dict[str, str]:
    client = moto_s3.client()
    listed = client.list_objects_v2(Bucket=bucket, Prefix=f"exports/{export_id}/")
    return {
        item["Key"].rsplit("/", 1)[1]: hashlib.sha256(
            client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        ).hexdigest()
        for item in listed.get("Contents", [])
    }


@pytest.mark.parametrize(("maker", "other"), [(0, 1), (1, 0)])
def test_either_replica_verifies_and_redelivers_an_export_the_other_made(
    replicas: Replicas, moto_s3: MotoS3, carol: Metadata, maker: int, other: int
) -> None:
    made, checks = replicas.stubs[maker], replicas.stubs[other]
    bare = create(made, carol)
    sent = create(made, carol, destination="vault")
    assert (bare.state, sent.state) == (pb.EXPORT_STATE_SIGNED, pb.EXPORT_STATE_DELIVERED)
    copy = replicas.vault / sent.id
    assert digests(copy) == in_bucket(moto_s3, replicas.bucket, sent.id)

    kept = checks.VerifyExport(pb.VerifyExportRequest(id=bare.id), metadata=carol, timeout=30)
    assert (kept.ok, list(kept.problems)) == (True, [])
    assert kept.fetched_from == f"s3://{replicas.bucket}/exports/{bare.id}/"

    data = sent.files[0].name
    (copy / data).write_bytes(b'{"seq": 0, "edited": true}\n')
    damaged = checks.VerifyExport(pb.VerifyExportRequest(id=sent.id), metadata=carol, timeout=30)
    assert not damaged.ok
    assert f"{data}: SHA-256 does not match the manifest" in damaged.problems

    again = checks.RedeliverExport(
        pb.RedeliverExportRequest(id=sent.id), metadata=carol, timeout=30
    )
    # The failed verification asked for the repair to be verified too: it was, at once.
    assert again.state == pb.EXPORT_STATE_VERIFIED
    assert digests(copy) == in_bucket(moto_s3, replicas.bucket, sent.id)
    repaired = checks.VerifyExport(pb.VerifyExportRequest(id=sent.id), metadata=carol, timeout=30)
    assert (repaired.ok, repaired.fetched_from) == (True, str(copy))
    # Neither replica kept an export on its own disk: all it read came from the bucket.
    for replica in (0, 1):
        kept_locally = [p.name for p in replicas.export_dir(replica).iterdir()]
        assert not {bare.id, sent.id} & set(kept_locally), kept_locally
