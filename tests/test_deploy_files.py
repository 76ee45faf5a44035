"""Offline checks of the deployment files: docker-compose.yml, deploy/Dockerfile, deploy/k8s/*.

Nothing here needs a Docker engine or a cluster: compose files are rendered by Debian's
`docker-compose config` (installed by tests/peers/install.sh) and Kubernetes manifests are checked
against the API schemas bundled with the `kubernetes-validate` package, their NetworkPolicies
against the calls the services' code makes. tests/k8s/test_k8s_start.py starts the manifests.
"""

from __future__ import annotations

import copy
import posixpath
import re
import shutil
import subprocess
from ipaddress import IPv4Network
from pathlib import Path, PurePosixPath
from typing import Any

import kubernetes_validate
import pytest
import yaml

from runtime.health import LIVENESS
from services.deploy import mounted

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = ROOT / "docker-compose.yml"
K8S_VERSION = "1.30.0"
GRPC_PORTS = {"agent": 50051, "ops": 50052, "export": 50053, "audit": 50054}
SCALED = [*GRPC_PORTS, "gateway"]
SECRET_NAME = "tradeops-secrets"
DUMMY_ENV = {
    "POSTGRES_PASSWORD": "dummy-not-a-secret",
    "AGENT_DB_PASSWORD": "dummy-not-a-secret",
    "OPS_DB_PASSWORD": "dummy-not-a-secret",
    "EXPORT_DB_PASSWORD": "dummy-not-a-secret",
    "AUDIT_DB_PASSWORD": "dummy-not-a-secret",
}

Doc = dict[str, Any]


# --- helpers -------------------------------------------------------------------------------


def manifests() -> list[tuple[str, Doc]]:
    found: list[tuple[str, Doc]] = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                found.append((path.name, doc))
    return found


def objects(kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for _, d in manifests() if d["kind"] == kind}


def container(workload: Doc) -> Doc:
    containers: list[Doc] = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, workload["metadata"]["name"]
    return containers[0]


def schema_error(doc: Doc) -> str | None:
    try:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return f"{exc.message} at {list(exc.absolute_path)}"
    return None


def run_compose(env: dict[str, str], tmp: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.fail("docker-compose missing: run `bash tests/peers/install.sh` as root")
    base = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(ROOT), "LANG": "C.UTF-8"}
    empty_env_file = tmp / "empty.env"  # hermetic: ignore any developer .env in the repo
    empty_env_file.write_text("")
    cmd = [exe, "--env-file", str(empty_env_file), "-f", str(COMPOSE), "config", "--quiet"]
    return subprocess.run(
        cmd, cwd=ROOT, env=base | env, capture_output=True, text=True, timeout=60, check=False
    )


def compose_services() -> dict[str, Doc]:
    services: dict[str, Doc] = yaml.safe_load(COMPOSE.read_text())["services"]
    return services


PLACEHOLDER = re.compile(r"""^(|\$.*|<.*|/.*|\./.*|\.\.\.|["']\$.*|[|>][-+]?|true|false)$""")
KEY_VALUE = re.compile(
    r"""(?i)\w*(password|passwd|secret|token|api_?key)["']?(\s*=|:\s)\s*(?P<value>[^\s#,]*)"""
)
URL_CREDENTIALS = re.compile(r"://[^/\s:@]+:(?P<value>\$\{[^}]*\}|[^@\s/]+)@")
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


def literal_secrets(text: str) -> list[str]:
    hits: list[str] = []
    for line in text.splitlines():
        values = [m["value"] for m in KEY_VALUE.finditer(line)]
        values += [m["value"] for m in URL_CREDENTIALS.finditer(line)]
        if PRIVATE_KEY.search(line) or any(not PLACEHOLDER.match(v) for v in values):
            hits.append(line.strip())
    return hits


def deploy_files() -> list[Path]:
    files = [p for p in DEPLOY.rglob("*") if p.is_file()]
    return [COMPOSE, *sorted(files)]


def init_folders() -> set[str]:
    """Every folder the READMEs and the Makefile tell `tradeops deploy init` to fill, and
    deploy-secrets, the one an earlier deploy/k8s/README.md named."""
    names = ("README.md", "deploy/k8s/README.md", "Makefile")
    texts = [(ROOT / name).read_text() for name in names]
    found = {m for text in texts for m in re.findall(r"tradeops deploy init ([.\w/-]+)", text)}
    return {posixpath.normpath(f) for f in found - {"DIR"}} | {"deploy-secrets"}


def git_ignores(path: str) -> bool:
    result = subprocess.run(
        ["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT, check=False
    )
    assert result.returncode in (0, 1), f"git check-ignore {path}: exit {result.returncode}"
    return result.returncode == 0


def docker_ignores(path: str) -> bool:
    """Whether .dockerignore keeps `path` out of the build context, as Docker reads it: the last
    pattern matching the path or one of its folders decides, `!` takes back, `*` stays within a
    folder and `**` spans any number of them."""
    parts = PurePosixPath(path).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = posixpath.normpath(pattern.removeprefix("!").strip()).lstrip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*")
        regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, c) for c in candidates):
            excluded = not negated
    return excluded


# --- docker-compose ------------------------------------------------------------------------


def test_docker_compose_file_validates_offline(tmp_path: Path) -> None:
    result = run_compose(DUMMY_ENV, tmp_path)
    assert result.returncode == 0, result.stderr


def test_docker_compose_refuses_to_render_without_the_password_variables(tmp_path: Path) -> None:
    result = run_compose({}, tmp_path)
    assert result.returncode != 0
    assert "PASSWORD" in result.stderr


def test_compose_runs_migrate_once_postgres_is_healthy() -> None:
    migrate = compose_services()["migrate"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["environment"]["SERVICE"] == "migrate"
    assert "TRADEOPS_ADMIN_DATABASE_URL" in migrate["environment"]
    assert "pg_isready" in str(compose_services()["postgres"]["healthcheck"]["test"])


def test_compose_services_wait_for_a_successful_migration_and_have_healthchecks() -> None:
    services = compose_services()
    for name in SCALED:
        svc = services[name]
        assert svc["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert svc["environment"]["SERVICE"] == name
        assert svc["healthcheck"]["test"][0] == "CMD", name
    for name, port in GRPC_PORTS.items():
        assert services[name]["environment"]["TRADEOPS_GRPC_LISTEN"] == f"0.0.0.0:{port}"
        assert "grpc_health" in " ".join(services[name]["healthcheck"]["test"])
    assert "/readyz" in " ".join(services["gateway"]["healthcheck"]["test"])


def test_compose_gives_each_role_the_password_its_service_url_carries() -> None:
    services = compose_services()
    migrate = services["migrate"]["environment"]
    for name in GRPC_PORTS:
        variable = f"${{{name.upper()}_DB_PASSWORD:"
        assert variable in services[name]["environment"][f"TRADEOPS_{name.upper()}_DATABASE_URL"]
        assert migrate[f"TRADEOPS_{name.upper()}_DB_PASSWORD"].startswith(variable), name


def test_every_compose_secret_is_a_file_deploy_init_makes_for_the_containers() -> None:
    secrets = yaml.safe_load(COMPOSE.read_text())["secrets"]
    folder = "${TRADEOPS_COMPOSE_DIR:-./.tradeops/compose}"
    files = {Path(s["file"].replace(folder, "/DIR")) for s in secrets.values()}
    assert files == set(mounted(Path("/DIR")))


def test_no_deploy_init_folder_goes_into_git_or_the_image() -> None:
    folders = init_folders()
    assert {".tradeops/compose", ".tradeops/deploy"} <= folders
    for folder in folders:
        for path in (f"{folder}/keys/issuer.pem", f"{folder}/passwords/postgres"):
            assert git_ignores(path), f"{path}: not in .gitignore"
            assert docker_ignores(path), f"{path}: not in .dockerignore"
    # Both checks tell a kept file from a left-out one.
    assert not git_ignores("services/deploy.py")
    assert not docker_ignores("services/deploy.py")
    assert docker_ignores("services/__pycache__/deploy.pyc")
    assert docker_ignores("tests/keys.py")


def test_compose_collector_mounts_the_shared_collector_config() -> None:
    volumes = compose_services()["otel-collector"]["volumes"]
    assert any(v.startswith("./deploy/otel-collector.yaml:") for v in volumes)


def test_compose_starts_without_a_collector_unless_the_telemetry_profile_is_on() -> None:
    services = compose_services()
    assert services["otel-collector"]["profiles"] == ["telemetry"]
    for name in SCALED:
        assert "otel-collector" not in services[name]["depends_on"], name


# --- Dockerfile ----------------------------------------------------------------------------


def test_dockerfile_builds_one_non_root_image_for_every_process() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    # The base image is a build argument, python:3.11-slim unless told otherwise.
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim$", text, re.M)
    assert re.search(r"^FROM \$\{BASE_IMAGE\}$", text, re.M)
    # Installed from the lock, not from ranges resolved on the day of the build.
    assert re.search(
        r"^RUN python3 -m pip install .*--require-hashes .*uv-requirements", text, re.M
    )
    assert re.search(r"^RUN /opt/uv/bin/uv sync --locked --no-dev\b", text, re.M)
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user, "no USER line"
    assert not user[-1].startswith(("root", "0")), user
    assert re.search(r"^ARG SERVICE", text, re.M)
    for entry in ["services.$SERVICE", "-m gateway", "tradeops migrate"]:
        assert entry in text, entry


# --- Kubernetes manifests ------------------------------------------------------------------


def test_every_kubernetes_manifest_validates_against_the_api_schema() -> None:
    docs = manifests()
    assert len(docs) >= 20, "expected the full set of manifests"
    failures = {f"{f}: {d['kind']}/{d['metadata']['name']}": schema_error(d) for f, d in docs}
    assert {k: v for k, v in failures.items() if v} == {}


def test_the_schema_validator_rejects_a_deployment_with_a_string_replica_count() -> None:
    broken = copy.deepcopy(objects("Deployment")["agent"])
    broken["spec"]["replicas"] = "two"
    assert schema_error(broken) is not None


def test_the_schema_validator_rejects_an_unknown_field_in_a_container() -> None:
    broken = copy.deepcopy(objects("Deployment")["gateway"])
    container(broken)["readinesProbe"] = {"httpGet": {"path": "/readyz", "port": 8000}}
    assert schema_error(broken) is not None


def test_every_kubernetes_object_lives_in_the_tradeops_namespace() -> None:
    for _, doc in manifests():
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "tradeops", doc["metadata"]["name"]


def test_every_grpc_service_deployment_probes_grpc_health_on_its_port() -> None:
    deployments = objects("Deployment")
    for name, port in GRPC_PORTS.items():
        c = container(deployments[name])
        assert [p["containerPort"] for p in c["ports"]] == [port], name
        # Ready is the standard "" service, which follows the database; started and alive are
        # the process, so a pod starting during a database outage is not killed for it.
        assert c["readinessProbe"]["grpc"] == {"port": port}, name
        assert c["startupProbe"]["grpc"] == {"port": port, "service": LIVENESS}, name
        assert c["livenessProbe"]["grpc"] == {"port": port, "service": LIVENESS}, name
        env = {e["name"]: e.get("value") for e in c["env"]}
        assert env["TRADEOPS_GRPC_LISTEN"] == f"0.0.0.0:{port}", name
        assert c["command"] == ["python", "-m", f"services.{name}"], name


def test_the_gateway_deployment_probes_healthz_and_readyz() -> None:
    c = container(objects("Deployment")["gateway"])
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["command"] == ["python", "-m", "gateway"]


def test_every_deployment_has_resources_and_a_cpu_autoscaler() -> None:
    deployments, hpas = objects("Deployment"), objects("HorizontalPodAutoscaler")
    for name in SCALED:
        resources = container(deployments[name])["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) & set(resources["limits"])
        hpa = hpas[name]
        assert hpa["apiVersion"] == "autoscaling/v2"
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)
        assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]


def test_every_deployment_has_a_service_on_its_port() -> None:
    services = objects("Service")
    for name in SCALED:
        port = GRPC_PORTS.get(name, 8000)
        assert [p["port"] for p in services[name]["spec"]["ports"]] == [port], name


def test_grpc_services_are_headless_so_clients_balance_over_every_replica() -> None:
    services = objects("Service")
    for name in GRPC_PORTS:
        assert services[name]["spec"]["clusterIP"] == "None", name
    assert "clusterIP" not in services["gateway"]["spec"]


def test_a_job_runs_tradeops_migrate_with_the_admin_url() -> None:
    migrate = ["tradeops", "migrate"]
    jobs = [j for j in objects("Job").values() if container(j)["command"] == migrate]
    assert len(jobs) == 1
    env = {e["name"] for e in container(jobs[0])["env"]}
    # Migrations run as each schema's owner role through the admin URL, never as a service.
    assert "TRADEOPS_ADMIN_DATABASE_URL" in env
    assert not {name for name in env if name.endswith("_DATABASE_URL")} - {
        "TRADEOPS_ADMIN_DATABASE_URL"
    }


def test_manifests_reference_the_secrets_but_never_define_them() -> None:
    assert objects("Secret") == {}
    assert "tradeops-database" not in objects("ConfigMap")
    text = "\n".join((K8S / f).read_text() for f in sorted({f for f, _ in manifests()}))
    names = set(re.findall(r"(?:secretName|name): (tradeops-s\S*)", text))
    assert names == {SECRET_NAME, "tradeops-s3"}


def test_configmap_holds_the_shared_non_secret_settings() -> None:
    data = objects("ConfigMap")["tradeops-config"]["data"]
    for name, port in GRPC_PORTS.items():
        address = f"dns:///{name}.tradeops.svc.cluster.local:{port}"
        assert data[f"TRADEOPS_{name.upper()}_ADDR"] == address
    collector = "http://otel-collector.tradeops.svc.cluster.local:4318"
    assert data["OTEL_EXPORTER_OTLP_ENDPOINT"] == collector
    assert data["TRADEOPS_TRUST_FILE"] == "/var/run/secrets/tradeops/trust.json"
    assert data["TRADEOPS_SERVICE_KEY_FILE"] == "/var/run/secrets/tradeops/service.pem"


# What each pod finds in /var/run/secrets/tradeops besides trust.json and its own service.pem.
OWN_KEYS = {
    "audit": {"audit-signing-keys": "audit-signing-keys.json"},
    "export": {
        "export-signing-key": "export-signing-key.pem",
        "export-verify-keys": "export-verify-keys.json",
    },
    "gateway": {"console-session-key": "console-session.key"},
}


def test_each_pod_mounts_the_public_keys_and_only_its_own_private_keys() -> None:
    for name, deployment in objects("Deployment").items():
        if name == "otel-collector":
            continue
        volumes = deployment["spec"]["template"]["spec"]["volumes"]
        items = [i for v in volumes if "secret" in v for i in v["secret"].get("items", [])]
        expected = {"trust-json": "trust.json", f"{name}-token-key": "service.pem"}
        assert {i["key"]: i["path"] for i in items} == expected | OWN_KEYS.get(name, {}), name


def test_signing_key_settings_point_into_the_mounted_secret() -> None:
    mount = "/var/run/secrets/tradeops"
    for name, files in OWN_KEYS.items():
        env = {e["name"]: e.get("value") for e in container(objects("Deployment")[name])["env"]}
        wanted = {e for e in env if e.endswith(("_KEYS_FILE", "_KEY_FILE"))}
        assert {env[e] for e in wanted} == {f"{mount}/{path}" for path in files.values()}, name


def test_exports_go_to_s3_with_optional_static_credentials_and_no_local_volume() -> None:
    data = objects("ConfigMap")["tradeops-config"]["data"]
    assert data["TRADEOPS_EXPORT_S3_BUCKET"]
    assert "TRADEOPS_EXPORT_DIR" not in data
    export = objects("Deployment")["export"]["spec"]["template"]["spec"]
    # Its directory is scratch space only: a pod's emptyDir holds no export another replica needs.
    scratch = {v["name"] for v in export["volumes"] if "emptyDir" in v} - {"tmp"}
    mounts = {m["name"]: m["mountPath"] for m in container_of(export)["volumeMounts"]}
    env = {e["name"]: e.get("value") for e in container_of(export)["env"]}
    assert {mounts[name] for name in scratch} == {env["TRADEOPS_EXPORT_DIR"]}
    refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"]
        for e in container_of(export)["env"]
        if "secretKeyRef" in e.get("valueFrom", {}) and e["name"].startswith("AWS_")
    }
    assert set(refs) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    # Optional: with IRSA there is no such Secret and boto3 finds the pod's role instead.
    assert all(ref["name"] == "tradeops-s3" and ref["optional"] is True for ref in refs.values())
    assert export["serviceAccountName"] == "export"


def container_of(pod_spec: Doc) -> Doc:
    containers: list[Doc] = pod_spec["containers"]
    return containers[0]


def test_k8s_collector_config_matches_the_compose_collector_config() -> None:
    in_k8s = yaml.safe_load(objects("ConfigMap")["otel-collector"]["data"]["config.yaml"])
    shared = yaml.safe_load((DEPLOY / "otel-collector.yaml").read_text())
    assert in_k8s == shared
    pipelines = shared["service"]["pipelines"]
    assert pipelines["traces"]["exporters"] == ["otlp/backend"]
    assert pipelines["metrics"]["exporters"] == ["prometheus"]
    assert not [p for p in pipelines.values() if "debug" in p["exporters"]]
    assert shared["exporters"]["otlp/backend"]["endpoint"].startswith("${env:OTLP_BACKEND_ENDPOINT")
    assert set(shared["receivers"]["otlp"]["protocols"]) == {"grpc", "http"}


# --- secrets -------------------------------------------------------------------------------


def test_no_deploy_file_contains_a_literal_secret() -> None:
    files = deploy_files()
    assert len(files) >= 10
    hits = {str(p.relative_to(ROOT)): literal_secrets(p.read_text()) for p in files}
    assert {k: v for k, v in hits.items() if v} == {}


@pytest.mark.parametrize(
    "line",
    [
        "TRADEOPS_JWT_SECRET=hunter2hunter2",
        "  password: hunter2",
        '  POSTGRES_PASSWORD: "hunter2"',
        "url: postgresql://agent_svc:hunter2@postgres:5432/tradeops",
        "-----BEGIN RSA PRIVATE KEY-----",
    ],
)
def test_the_secret_scanner_flags_literal_secrets(line: str) -> None:
    assert literal_secrets(line) == [line.strip()]


@pytest.mark.parametrize(
    "line",
    [
        "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}",
        "url: postgresql://agent_svc:${AGENT_DB_PASSWORD:?set it}@postgres:5432/tradeops",
        "TRADEOPS_TRUST_FILE: /run/secrets/tradeops_trust",
        "secretName: tradeops-secrets",
    ],
)
def test_the_secret_scanner_accepts_references(line: str) -> None:
    assert literal_secrets(line) == []


# --- network policies ----------------------------------------------------------------------


def pod_labels() -> dict[str, dict[str, str]]:
    """Each workload's pod labels (Deployments and the migrate Job)."""
    workloads = {**objects("Deployment"), **objects("Job")}
    return {
        d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]: d["spec"][
            "template"
        ]["metadata"]["labels"]
        for d in workloads.values()
    }


NAMESPACE_LABEL = "kubernetes.io/metadata.name"  # Kubernetes sets it on every namespace
# Pod and service ranges of kubeadm, flannel, k3s and Calico, and link-local (cloud metadata):
# an ipBlock for an outside peer must except them all (deploy/k8s/README.md lists the same).
CLUSTER_RANGES = [
    IPv4Network(c)
    for c in ("10.96.0.0/12", "10.244.0.0/16", "10.42.0.0/15", "192.168.0.0/16", "169.254.0.0/16")
]


def selects(selector: Doc, labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def peers_admit(rule_peers: list[Doc], labels: dict[str, str], namespace: str) -> bool:
    """Whether a pod with `labels` in `namespace` is one of a rule's peers (a peer without a
    namespaceSelector means the policy's own namespace; `{}` selects every namespace)."""
    for peer in rule_peers:
        if "ipBlock" in peer:
            continue
        if "namespaceSelector" in peer:
            in_namespace = selects(peer["namespaceSelector"], {NAMESPACE_LABEL: namespace})
        else:
            in_namespace = namespace == "tradeops"
        if in_namespace and selects(peer.get("podSelector", {}), labels):
            return True
    return False


def allowed(
    policies: list[Doc],
    pod: dict[str, str],
    kind: str,
    other: dict[str, str],
    port: int,
    namespace: str = "tradeops",
) -> bool:
    """Whether the policies selecting `pod` let it talk to `other`, a pod of `namespace`, on
    `port` (kind: ingress from `other`, egress to it). Every pod is selected by default-deny, so
    no policy means no."""
    key = "from" if kind == "ingress" else "to"
    for policy in policies:
        spec = policy["spec"]
        if not selects(spec["podSelector"], pod):
            continue
        for rule in spec.get(kind, []):
            ports = {p["port"] for p in rule.get("ports", [])}
            peer_ok = key not in rule or peers_admit(rule[key], other, namespace)
            if peer_ok and (not ports or port in ports):
                return True
    return False


def calls_in_code() -> set[tuple[str, str]]:
    """Who calls whom: the peers each service's __main__ opens; the gateway calls them all."""
    edges = {("gateway", name) for name in GRPC_PORTS}
    for name in GRPC_PORTS:
        text = (ROOT / "services" / name / "__main__.py").read_text()
        edges |= {(name, peer) for peer in re.findall(r'peers\["(\w+)"\]', text)}
    return edges


def test_network_policies_allow_exactly_the_calls_the_services_make() -> None:
    policies = list(objects("NetworkPolicy").values())
    labels = pod_labels()
    ports = {**GRPC_PORTS, "gateway": 8000}
    open_edges = {
        (src, dst)
        for src in labels
        for dst in ports
        if src != dst
        and allowed(policies, labels[src], "egress", labels[dst], ports[dst])
        and allowed(policies, labels[dst], "ingress", labels[src], ports[dst])
    }
    assert open_edges == calls_in_code()
    assert {("agent", "audit"), ("export", "agent"), ("ops", "audit")} <= open_edges


def test_network_policies_deny_by_default_and_open_dns_the_collector_and_postgres() -> None:
    policies = objects("NetworkPolicy")
    assert policies["default-deny"]["spec"] == {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
    }
    dns_ports = {(p["protocol"], p["port"]) for p in policies["dns"]["spec"]["egress"][0]["ports"]}
    assert dns_ports == {("UDP", 53), ("TCP", 53)}
    labels, everything = pod_labels(), list(policies.values())
    collector = labels["otel-collector"]
    for name, pod in labels.items():
        for port in (4317, 4318):
            assert allowed(everything, pod, "egress", collector, port), name
            assert allowed(everything, collector, "ingress", pod, port), name
        to_postgres = [
            r
            for p in everything
            if selects(p["spec"]["podSelector"], pod)
            for r in p["spec"].get("egress", [])
            if {"protocol": "TCP", "port": 5432} in r.get("ports", [])
        ]
        assert bool(to_postgres) == (name in {*GRPC_PORTS, "migrate"}), name
    # Nothing may reach the gateway but on its HTTP port; nothing reaches the migrate Job.
    assert not allowed(everything, labels["migrate"], "ingress", labels["gateway"], 8000)


def test_the_edge_check_sees_a_missing_rule() -> None:
    policies = [copy.deepcopy(p) for p in objects("NetworkPolicy").values()]
    audit = next(p for p in policies if p["metadata"]["name"] == "audit")
    audit["spec"]["ingress"][0]["from"] = audit["spec"]["ingress"][0]["from"][1:]
    labels = pod_labels()
    assert not allowed(policies, labels["audit"], "ingress", labels["gateway"], 50054)
    assert allowed(policies, labels["audit"], "ingress", labels["agent"], 50054)


def loose_peers(policies: list[Doc]) -> list[str]:
    """Peers wider than drawn: a namespaceSelector naming no namespace (any namespace's pods
    with the label get in), or an ipBlock reaching a cluster range it does not except (then the
    port of an outside peer reaches other pods too)."""
    found = []
    for policy in policies:
        for kind, key in (("ingress", "from"), ("egress", "to")):
            for rule in policy["spec"].get(kind, []):
                for peer in rule.get(key, []):
                    where = f"{policy['metadata']['name']} {kind}"
                    selector = peer.get("namespaceSelector")
                    if selector is not None and NAMESPACE_LABEL not in selector.get(
                        "matchLabels", {}
                    ):
                        found.append(f"{where}: namespaceSelector {selector}")
                    if "ipBlock" in peer:
                        block = IPv4Network(peer["ipBlock"]["cidr"])
                        excepted = [IPv4Network(c) for c in peer["ipBlock"].get("except", [])]
                        found += [
                            f"{where}: {block} reaches {inside}"
                            for inside in CLUSTER_RANGES
                            if inside.overlaps(block)
                            and not any(e.supernet_of(inside) for e in excepted)
                        ]
    return found


def desk_namespaces(policies: list[Doc]) -> set[str | None]:
    """The namespaces each desk-system peer names (None: it names none)."""
    return {
        peer.get("namespaceSelector", {}).get("matchLabels", {}).get(NAMESPACE_LABEL)
        for policy in policies
        for rule in policy["spec"].get("ingress", [])
        for peer in rule.get("from", [])
        if "tradeops.io/grpc-client" in peer.get("podSelector", {}).get("matchLabels", {})
    }


def test_no_policy_admits_any_namespace_or_sends_outside_peers_ports_to_pods() -> None:
    assert loose_peers(list(objects("NetworkPolicy").values())) == []


def test_desk_systems_reach_the_grpc_services_from_their_namespace_only() -> None:
    policies, labels = list(objects("NetworkPolicy").values()), pod_labels()
    namespaces = desk_namespaces(policies)
    assert None not in namespaces, namespaces
    assert len(namespaces) == 1, namespaces
    namespace = str(namespaces.pop())
    desk = {"tradeops.io/grpc-client": "true"}
    for name, port in GRPC_PORTS.items():
        assert allowed(policies, labels[name], "ingress", desk, port, namespace), name
        assert not allowed(policies, labels[name], "ingress", desk, port, "elsewhere"), name
        assert not allowed(policies, labels[name], "ingress", {}, port, namespace), name
    # A placeholder: the README tells operators to set it.
    assert f"`{namespace}`" in (K8S / "README.md").read_text()


def test_the_peer_checks_see_any_namespace_and_an_ipblock_without_except() -> None:
    policies = [copy.deepcopy(p) for p in objects("NetworkPolicy").values()]
    audit = next(p for p in policies if p["metadata"]["name"] == "audit")
    audit["spec"]["ingress"][0]["from"][-1]["namespaceSelector"] = {}
    del audit["spec"]["egress"][-1]["to"][0]["ipBlock"]["except"]

    assert loose_peers(policies) == [
        "audit ingress: namespaceSelector {}",
        *(f"audit egress: 0.0.0.0/0 reaches {inside}" for inside in CLUSTER_RANGES),
    ]
    assert None in desk_namespaces(policies)
    desk = {"tradeops.io/grpc-client": "true"}
    assert allowed(policies, pod_labels()["audit"], "ingress", desk, 50054, "elsewhere")
