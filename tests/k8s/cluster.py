"""The pods of a plan, started as a cluster would start them, on this machine: run as
`unshare --net --mount --propagation private --fork python -m tests.k8s.cluster PLAN.json`.

In that private network namespace every pod has the ports its manifest declares (as in a pod's
own network namespace; only here they share one loopback), and in that private mount namespace
/etc/hosts sends the cluster's DNS names (the headless Services', the collector's, the
database's) to 127.0.0.1: no address in any pod's environment is changed. PostgreSQL runs in here
too (no address outside is reachable), with password authentication on, so a password the
migrate Job did not give a role is refused as a real server would refuse it. A stand-in accepts
OTLP/HTTP where the collector would (its image is not on this machine).

Then: the Job's pod runs to completion, every Deployment's pod starts at once, and each probe
the manifests declare is asked as the kubelet asks it, and the README's walkthrough is walked
through the gateway. The report (JSON) says what each answered."""

from __future__ import annotations

import fcntl
import json
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import httpx
import psycopg
from grpc_health.v1 import health_pb2, health_pb2_grpc
from psycopg import sql

from runtime.pgserver import LocalPostgres
from tests.export.s3 import MotoS3
from tests.k8s import s3
from tests.k8s.walkthrough import walk

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
UNSHARE_MOUNT = ("unshare", "--mount", "--propagation", "private")
Doc = dict[str, Any]


def main(plan_file: str) -> None:
    plan: Doc = json.loads(Path(plan_file).read_text())
    run_dir = Path(plan["run_dir"])
    loopback_up()
    hosts = run_dir / "hosts"
    hosts.write_text("127.0.0.1 localhost " + " ".join(plan["hosts"]) + "\n")
    subprocess.run(["mount", "--bind", str(hosts), "/etc/hosts"], check=True)
    collector = OtlpStandIn(plan["otlp_port"])
    pg = LocalPostgres(run_dir / "pgdata", plan["pg_port"], durable=False)
    pg.start()
    store: MotoS3 | None = None
    report: Doc = {"jobs": {}, "pods": {}, "logged_in": [], "walkthrough": {}}
    report["otlp"] = collector.hits
    try:
        store = s3.start(plan["s3"], run_dir / "s3.log")
        admin = require_passwords(pg, plan["admin_password"])
        for job in plan["jobs"]:
            report["jobs"][job["name"]] = run_job(job, run_dir)
        if all(job["exit"] == 0 for job in report["jobs"].values()):
            started, pods = time.monotonic(), start_pods(plan["deployments"], run_dir)
            try:
                report["pods"] = {
                    d["name"]: probe_all(d, pods[d["name"]], started) for d in plan["deployments"]
                }
                report["logged_in"] = logged_in(admin, plan["roles"])
                if all(p.poll() is None for p in pods.values()):
                    report["walkthrough"] = walk(plan["api_url"], plan["tokens"])
                report["s3"] = s3.locked_objects(plan["s3"])
            finally:
                stop_pods(pods)
    except Exception:
        report["error"] = traceback.format_exc()
        raise
    finally:
        pg.stop()
        collector.stop()
        if store is not None:
            store.stop()
        Path(plan["report"]).write_text(json.dumps(report, indent=2))


def loopback_up() -> None:
    """`ip link set lo up`, which a new network namespace needs, without iproute2."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | IFF_UP))


def require_passwords(pg: LocalPostgres, admin_password: str) -> str:
    """The administrator gets the password the operator was told to set; from then on every
    login over TCP needs its role's password (the server is trust-authenticated until here).
    Returns the administrator's URL."""
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER ROLE postgres PASSWORD {}").format(sql.Literal(admin_password)))
        (pg.datadir / "pg_hba.conf").write_text("host all all 127.0.0.1/32 scram-sha-256\n")
        conn.execute("SELECT pg_reload_conf()")
    return f"postgresql://postgres:{admin_password}@127.0.0.1:{pg.port}/tradeops"


def launch(pod: Doc, run_dir: Path) -> subprocess.Popen[bytes]:
    with (run_dir / f"{pod['name']}.log").open("ab") as log:
        return subprocess.Popen(
            [*UNSHARE_MOUNT, sys.executable, "-m", "tests.k8s.pod", pod["spec_file"]],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def run_job(job: Doc, run_dir: Path) -> Doc:
    started = time.monotonic()
    proc = launch(job, run_dir)
    try:
        code = proc.wait(timeout=job["deadline_s"])
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    return {"exit": code, "seconds": round(time.monotonic() - started, 1)}


def start_pods(deployments: list[Doc], run_dir: Path) -> dict[str, subprocess.Popen[bytes]]:
    return {d["name"]: launch(d, run_dir) for d in deployments}


def stop_pods(pods: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in pods.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in pods.values():
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def probe_all(deployment: Doc, proc: subprocess.Popen[bytes], started: float) -> Doc:
    """The startup probe until it succeeds or its failureThreshold runs out; then readiness,
    given as long again to turn ready; then liveness, once. What each answered last, and when
    the pod was ready (seconds since every pod was started)."""
    answers: Doc = {}
    for kind in ("startup", "readiness", "liveness"):
        probe = deployment["probes"].get(kind)
        if probe is None:
            continue
        patience = 0.0 if kind == "liveness" else probe["budget_s"]
        answers[kind] = ask_until(probe, patience, proc)
        if kind == "startup" and answers[kind] not in ("SERVING", "200"):
            break
        if kind == "readiness":
            answers["ready_after_s"] = round(time.monotonic() - started, 1)
    answers["exit"] = proc.poll()
    return answers


def ask_until(probe: Doc, patience_s: float, proc: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + patience_s
    while True:
        answer = ask(probe)
        if answer in ("SERVING", "200") or time.monotonic() >= deadline or proc.poll() is not None:
            return answer
        time.sleep(0.5)


def ask(probe: Doc) -> str:
    if "grpc" in probe:
        check = probe["grpc"]
        request = health_pb2.HealthCheckRequest(service=check.get("service", ""))
        try:
            with grpc.insecure_channel(f"127.0.0.1:{check['port']}") as channel:
                reply = health_pb2_grpc.HealthStub(channel).Check(request, timeout=2)
        except grpc.RpcError as exc:
            return str(exc.code().name)
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))
    get = probe["httpGet"]
    try:
        return str(httpx.get(f"http://127.0.0.1:{get['port']}{get['path']}", timeout=2).status_code)
    except httpx.HTTPError as exc:
        return type(exc).__name__


def logged_in(admin_url: str, roles: list[str]) -> list[str]:
    """Which of `roles` hold a session: each service logs in with the password of its URL."""
    deadline = time.monotonic() + 30
    while True:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            rows = conn.execute("SELECT DISTINCT usename FROM pg_stat_activity").fetchall()
        found = sorted({str(r[0]) for r in rows} & set(roles))
        if len(found) == len(roles) or time.monotonic() >= deadline:
            return found
        time.sleep(0.5)


class OtlpStandIn:
    """Where the collector would listen for OTLP/HTTP: answers every export with an empty
    (valid) protobuf reply, and counts them by path."""

    def __init__(self, port: int) -> None:
        self.hits: dict[str, int] = {}
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                hits[self.path] = hits.get(self.path, 0) + 1
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()


if __name__ == "__main__":
    main(sys.argv[1])
