"""Kubernetes, where no cluster can run: the README's commands run as written (kubectl records
what it is asked; `tradeops deploy init` is the real command), every Deployment's and the migrate
Job's container is resolved from what they created and applied, as the kubelet resolves it
(tests/k8s/resolve.py), and then started as a process: the Job first, to completion, then every
Deployment at once, each in its own mount namespace holding its volumes at their mountPaths, all
in one private network namespace whose /etc/hosts sends the cluster's DNS names to the loopback
(tests/k8s/cluster.py). No address, path or variable of any pod is rewritten. What differs from a
cluster, and why:

- the processes run as the test's user, from this checkout's virtualenv (the image's PATH);
- the collector's pod is resolved but not started (its image is not here): a stand-in takes OTLP;
- exports go to an S3-compatible server (moto) in the pods' network, with the ConfigMap's bucket
  made with Object Lock, and the ConfigMap gets TRADEOPS_EXPORT_S3_ENDPOINT_URL, as config.yaml
  tells operators of such stores to add. That is the one change made to any pod's environment.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from runtime.keys import ISSUER, SigningKey
from runtime.settings import AuthSettings
from runtime.tokens import mint_person_token
from tests.k8s import readme, s3
from tests.k8s.resolve import Cluster, Pod, Unresolved, resolve

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "tradeops"
GRPC = ("agent", "ops", "export", "audit")
# What an operator would export before the README's commands (its first block).
OPERATOR = {
    "PGHOST": "postgres.tradeops.test",
    "PGSSLMODE": "disable",
    "PGADMIN": "postgres",
    "AWS_ACCESS_KEY_ID": "test-access-key",
    "AWS_SECRET_ACCESS_KEY": "test-secret-key",
}
IMAGE_ENV = {
    "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
}
NOT_STARTED = {"Deployment/otel-collector"}
Doc = dict[str, Any]


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> readme.Applied:
    return readme.run(tmp_path_factory.mktemp("operator"), OPERATOR)


def cluster_of(applied: readme.Applied) -> tuple[Cluster, list[Doc]]:
    docs = readme.manifests(applied.files)
    cluster = Cluster()
    for doc in [*docs, *applied.created]:
        if doc["metadata"].get("namespace") == NAMESPACE:
            cluster.add(doc)
    return cluster, [d for d in docs if d["kind"] in ("Deployment", "Job")]


def pods_of(applied: readme.Applied) -> dict[str, Pod]:
    cluster, workloads = cluster_of(applied)
    return {p.name: p for p in (resolve(w, cluster) for w in workloads)}


# --- resolution, without starting anything -------------------------------------------------


def test_the_readme_creates_the_secrets_before_it_applies_what_needs_them(
    applied: readme.Applied,
) -> None:
    steps = applied.steps
    assert steps[0] == "apply deploy/k8s/namespace.yaml"
    created = max(i for i, s in enumerate(steps) if s.startswith("create "))
    waited = steps.index("wait job/tradeops-migrate")
    assert steps.index("apply deploy/k8s/migrate-job.yaml") > created
    for name in (*GRPC, "gateway"):
        assert steps.index(f"apply deploy/k8s/{name}.yaml") > waited, name
    manifests = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "deploy/k8s").glob("*.yaml"))
    assert sorted(applied.files) == manifests


def test_every_workload_resolves_with_its_own_keys_and_database_url(
    applied: readme.Applied,
) -> None:
    pods = pods_of(applied)
    assert set(pods) == {f"Deployment/{n}" for n in (*GRPC, "gateway", "otel-collector")} | {
        "Job/tradeops-migrate"
    }
    for name in GRPC:
        env = pods[f"Deployment/{name}"].env
        url = env[f"TRADEOPS_{name.upper()}_DATABASE_URL"]
        assert url.startswith(f"postgresql://{name}_svc:"), name
        assert "$(" not in url, name
        assert url.endswith("@postgres.tradeops.test:5432/tradeops?sslmode=disable"), name
        mounted = {f for m in pods[f"Deployment/{name}"].mounts for f in m.files}
        assert "service.pem" in mounted, name
        assert "issuer.pem" not in mounted, name
    admin = pods["Job/tradeops-migrate"].env["TRADEOPS_ADMIN_DATABASE_URL"]
    assert admin.startswith("postgresql://postgres:")
    assert admin.endswith("/postgres?sslmode=disable")


MISSING = [
    (
        "agent",
        lambda c: c.secrets["tradeops-secrets"].pop("agent-db-password"),
        "Deployment/agent container agent env DB_PASSWORD: Secret 'tradeops-secrets' has no "
        "key 'agent-db-password'",
    ),
    (
        "tradeops-migrate",
        lambda c: c.secrets["tradeops-secrets"].pop("ops-db-password"),
        "Job/tradeops-migrate container migrate env TRADEOPS_OPS_DB_PASSWORD: Secret "
        "'tradeops-secrets' has no key 'ops-db-password'",
    ),
    (
        "ops",
        lambda c: c.config_maps.pop("tradeops-database"),
        "Deployment/ops container ops env DB_HOST: ConfigMap 'tradeops-database' does not exist",
    ),
    (
        "audit",
        lambda c: c.secrets["tradeops-secrets"].pop("audit-signing-keys"),
        "Deployment/audit container audit volumeMount keys: Secret 'tradeops-secrets' has no "
        "key 'audit-signing-keys'",
    ),
    (
        "gateway",
        lambda c: c.config_maps.pop("tradeops-config"),
        "Deployment/gateway container gateway: envFrom ConfigMap 'tradeops-config' does not exist",
    ),
    (
        "otel-collector",
        lambda c: c.config_maps.pop("otel-collector"),
        "volumeMount config: ConfigMap 'otel-collector' does not exist",
    ),
]


@pytest.mark.parametrize(("workload", "change", "message"), MISSING)
def test_resolution_names_what_is_missing(
    applied: readme.Applied, workload: str, change: Any, message: str
) -> None:
    cluster, workloads = cluster_of(applied)
    chosen = next(w for w in workloads if w["metadata"]["name"] == workload)
    resolve(chosen, cluster)
    change(cluster)
    with pytest.raises(Unresolved) as raised:
        resolve(chosen, cluster)
    assert message in str(raised.value)


def test_an_undefined_variable_in_a_value_is_refused(applied: readme.Applied) -> None:
    cluster, workloads = cluster_of(applied)
    agent = copy.deepcopy(next(w for w in workloads if w["metadata"]["name"] == "agent"))
    agent["spec"]["template"]["spec"]["containers"][0]["env"].insert(
        0, {"name": "EARLY", "value": "$(DB_PASSWORD)"}
    )
    with pytest.raises(Unresolved, match=r"env EARLY: \$\(DB_PASSWORD\) names no variable"):
        resolve(agent, cluster)


def test_without_the_s3_secret_export_still_resolves_for_a_pod_role(
    applied: readme.Applied,
) -> None:
    cluster, workloads = cluster_of(applied)
    del cluster.secrets["tradeops-s3"]
    export = resolve(next(w for w in workloads if w["metadata"]["name"] == "export"), cluster)
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} & set(export.env)
    assert export.env["TRADEOPS_EXPORT_S3_BUCKET"]


# --- the pods, started ---------------------------------------------------------------------


def spec_file(pod: Pod, run_dir: Path) -> str:
    env = {**IMAGE_ENV, **pod.env}
    mounts = []
    for m in asdict(pod)["mounts"]:
        files = {k: [base64.b64encode(c).decode(), mode] for k, (c, mode) in m["files"].items()}
        mounts.append({**m, "files": files})
    short = pod.name.split("/")[1]
    scratch = run_dir / f"{short}.scratch"
    scratch.mkdir()
    spec: Doc = {"command": pod.command, "env": env, "workdir": str(ROOT), "mounts": mounts}
    spec |= {"fs_group": pod.fs_group, "scratch": str(scratch)}
    path = run_dir / f"{short}.json"
    path.write_text(json.dumps(spec))
    return str(path)


def probes_of(pod: Pod) -> Doc:
    """The probes with the time the kubelet gives the startup probe (period x failureThreshold,
    Kubernetes' defaults 10 s x 3); readiness gets as long again to turn ready."""
    startup = pod.probes.get("startup", {})
    budget = startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3)
    return {kind: {**probe, "budget_s": float(budget)} for kind, probe in pod.probes.items()}


def people_tokens(keys: Path) -> dict[str, str]:
    """Tokens as `tradeops token` would sign them with the deploy folder's issuer key."""
    settings = AuthSettings.from_env({"TRADEOPS_TRUST_FILE": str(keys / "trust.json")})
    issuer = SigningKey.load(keys / "issuer.pem", ISSUER)
    people = {"olga": "ops", "bob": "ops", "carol": "compliance"}
    return {who: mint_person_token(issuer, settings, who, [role]) for who, role in people.items()}


def s3_plan(cluster: Cluster) -> Doc:
    config, credentials = cluster.config_maps["tradeops-config"], cluster.secrets["tradeops-s3"]
    return {
        "bucket": config["TRADEOPS_EXPORT_S3_BUCKET"],
        "prefix": config["TRADEOPS_EXPORT_S3_PREFIX"],
        "region": config["TRADEOPS_EXPORT_S3_REGION"],
        "access_key_id": credentials["access-key-id"].decode(),
        "secret_access_key": credentials["secret-access-key"].decode(),
    }


@pytest.fixture(scope="module")
def k8s_cluster(applied: readme.Applied, tmp_path_factory: pytest.TempPathFactory) -> Doc:
    if os.geteuid() != 0:
        pytest.fail("starting the pods needs root (network and mount namespaces): run as root")
    run_dir = tmp_path_factory.mktemp("k8s-run")
    cluster, workloads = cluster_of(applied)
    config = cluster.config_maps["tradeops-config"]
    config["TRADEOPS_EXPORT_S3_ENDPOINT_URL"] = f"http://{s3.ENDPOINT_HOST}:{s3.PORT}"
    pods = {p.name: p for p in (resolve(w, cluster) for w in workloads)}
    order = ["audit", "ops", "agent", "export", "gateway"]  # gateway last: it asks the others
    plan = {
        "run_dir": str(run_dir),
        "report": str(run_dir / "report.json"),
        "hosts": [f"{s}.{NAMESPACE}.svc.cluster.local" for s in cluster.services]
        + [cluster.config_maps["tradeops-database"]["host"], s3.ENDPOINT_HOST],
        "pg_port": int(cluster.config_maps["tradeops-database"]["port"]),
        "otlp_port": 4318,
        "admin_password": cluster.secrets["tradeops-secrets"]["postgres-password"].decode(),
        "roles": [f"{s}_svc" for s in GRPC],
        "api_url": "http://gateway.tradeops.svc.cluster.local:8000",
        "tokens": people_tokens(applied.work / readme.init_folder() / "keys"),
        "s3": s3_plan(cluster),
        "jobs": [
            {
                "name": "tradeops-migrate",
                "spec_file": spec_file(pods["Job/tradeops-migrate"], run_dir),
                "deadline_s": 240,
            }
        ],
        "deployments": [
            {
                "name": name,
                "spec_file": spec_file(pods[f"Deployment/{name}"], run_dir),
                "probes": probes_of(pods[f"Deployment/{name}"]),
            }
            for name in order
        ],
    }
    (run_dir / "plan.json").write_text(json.dumps(plan))
    command = ["unshare", "--net", "--mount", "--propagation", "private", "--fork"]
    command += [sys.executable, "-m", "tests.k8s.cluster", str(run_dir / "plan.json")]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    report_file = run_dir / "report.json"
    assert report_file.exists(), f"the cluster runner failed: {result.stderr[-3000:]}"
    report: Doc = json.loads(report_file.read_text())
    assert "error" not in report, f"the cluster runner failed: {report.get('error')}"
    report["logs"] = {p.stem: p.read_text(errors="replace")[-3000:] for p in run_dir.glob("*.log")}
    return report


def test_the_migrate_job_completes_against_postgres_with_passwords(k8s_cluster: Doc) -> None:
    job = k8s_cluster["jobs"]["tradeops-migrate"]
    assert job["exit"] == 0, k8s_cluster["logs"].get("tradeops-migrate")


@pytest.mark.parametrize("name", [*GRPC, "gateway"])
def test_every_deployment_starts_and_turns_ready_on_its_declared_probes(
    k8s_cluster: Doc, name: str
) -> None:
    answers = k8s_cluster["pods"].get(name, {})
    ok = "200" if name == "gateway" else "SERVING"
    assert (answers.get("startup"), answers.get("readiness")) == (ok, ok), (
        answers,
        k8s_cluster["logs"].get(name),
    )
    assert answers["exit"] is None, k8s_cluster["logs"].get(name)


def test_each_service_logs_in_as_its_own_role_with_the_password_its_url_carries(
    k8s_cluster: Doc,
) -> None:
    assert k8s_cluster["logged_in"] == sorted(f"{s}_svc" for s in GRPC)


def test_the_gateway_is_alive_on_its_declared_liveness_probe(k8s_cluster: Doc) -> None:
    assert k8s_cluster["pods"]["gateway"]["liveness"] == "200"


@pytest.mark.parametrize("name", GRPC)
def test_every_grpc_service_is_alive_on_its_declared_liveness_probe(
    k8s_cluster: Doc, name: str
) -> None:
    assert k8s_cluster["pods"][name]["liveness"] == "SERVING"


def test_the_walkthrough_works_through_the_gateway_with_the_deployed_keys(
    k8s_cluster: Doc,
) -> None:
    seen = k8s_cluster["walkthrough"]
    assert (seen.get("incident"), seen.get("triage")) == (201, 201), seen
    assert seen["approved"] == "APPROVED", seen
    assert "ops.action.approved" in seen["audited"], seen
    assert seen["verified"] is True, seen
    assert seen["export"]["state"] == "SIGNED", seen
    assert seen["export"]["records"] > 0, seen


def test_the_signed_export_is_kept_in_the_bucket_under_compliance_lock(k8s_cluster: Doc) -> None:
    assert k8s_cluster["walkthrough"]["export"]["state"] == "SIGNED"
    kept = k8s_cluster.get("s3", {})
    assert kept.get("objects", 0) > 0, kept
    assert kept["modes"] == ["COMPLIANCE"], kept
