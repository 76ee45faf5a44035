"""What the kubelet makes of a workload's pod template: the container's command, its environment
and the files of its volumes, resolved against the cluster's ConfigMaps, Secrets and Services the
way Kubernetes does it, except that every reference to something missing is an error naming it
(Kubernetes would leave the pod waiting, or a `$(VAR)` unexpanded).

Environment, in the kubelet's order: the service links of the namespace's Services that have a
cluster IP (enableServiceLinks), then `envFrom`, then `env` in order, where `$(VAR)` expands from
what is defined so far and `$$` is a literal `$`; the command and args expand from the result."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

Doc = dict[str, Any]
REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


class Unresolved(Exception):
    """The pod could not start as written: a ConfigMap, Secret, key or variable is missing."""


@dataclass(frozen=True)
class Mount:
    path: str
    files: dict[str, tuple[bytes, int]]  # relative path -> (content, mode); emptyDir: none
    read_only: bool
    empty_dir: bool


@dataclass
class Pod:
    name: str  # "Deployment/agent"
    command: list[str]
    env: dict[str, str]
    mounts: list[Mount]
    probes: dict[str, Doc]  # startup/readiness/liveness -> {"grpc": {...}} or {"httpGet": {...}}
    fs_group: int | None = None
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class Cluster:
    """The objects of one namespace the pods may refer to."""

    config_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    secrets: dict[str, dict[str, bytes]] = field(default_factory=dict)
    services: dict[str, Doc] = field(default_factory=dict)

    def add(self, doc: Doc) -> None:
        name, kind = doc["metadata"]["name"], doc["kind"]
        if kind == "ConfigMap":
            self.config_maps[name] = dict(doc.get("data", {}))
        elif kind == "Secret":
            data = {k: base64.b64decode(v) for k, v in doc.get("data", {}).items()}
            data |= {k: v.encode() for k, v in doc.get("stringData", {}).items()}
            self.secrets[name] = data
        elif kind == "Service":
            self.services[name] = doc

    def source(self, kind: str, name: str, where: str) -> dict[str, bytes] | None:
        found = self.secrets.get(name) if kind == "Secret" else self.config_maps.get(name)
        if found is None:
            return None
        return {k: v if isinstance(v, bytes) else v.encode() for k, v in found.items()}


def resolve(workload: Doc, cluster: Cluster) -> Pod:
    name = f"{workload['kind']}/{workload['metadata']['name']}"
    template = workload["spec"]["template"]
    spec = template["spec"]
    (container,) = spec["containers"]
    where = f"{name} container {container['name']}"
    env = service_links(cluster) if spec.get("enableServiceLinks", True) else {}
    for source in container.get("envFrom", []):
        env |= env_from(source, cluster, where)
    for var in container.get("env", []):
        value = env_value(var, env, cluster, f"{where} env {var['name']}")
        if value is not None:
            env[var["name"]] = value
    command = [expand(a, env, f"{where} command") for a in container.get("command", [])]
    command += [expand(a, env, f"{where} args") for a in container.get("args", [])]
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", []) if "name" in p}
    probes = {
        kind: named_ports(container[f"{kind}Probe"], ports)
        for kind in ("startup", "readiness", "liveness")
        if f"{kind}Probe" in container
    }
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = [mount(m, volumes, cluster, where) for m in container.get("volumeMounts", [])]
    fs_group = spec.get("securityContext", {}).get("fsGroup")
    return Pod(name, command, env, mounts, probes, fs_group, template["metadata"]["labels"])


def service_links(cluster: Cluster) -> dict[str, str]:
    """What enableServiceLinks puts in every container for each Service with a cluster IP (the
    addresses are made up: no cluster hands them out here; headless Services get none)."""
    env: dict[str, str] = {}
    for index, (name, service) in enumerate(sorted(cluster.services.items())):
        if service["spec"].get("clusterIP") == "None":
            continue
        prefix, ip = name.upper().replace("-", "_"), f"10.96.0.{10 + index}"
        port = service["spec"]["ports"][0]["port"]
        env |= {f"{prefix}_SERVICE_HOST": ip, f"{prefix}_SERVICE_PORT": str(port)}
        env[f"{prefix}_PORT"] = f"tcp://{ip}:{port}"
    return env


def env_from(source: Doc, cluster: Cluster, where: str) -> dict[str, str]:
    kind, ref = (
        ("Secret", source["secretRef"])
        if "secretRef" in source
        else (
            "ConfigMap",
            source["configMapRef"],
        )
    )
    found = cluster.source(kind, ref["name"], where)
    if found is None:
        if ref.get("optional"):
            return {}
        raise Unresolved(f"{where}: envFrom {kind} {ref['name']!r} does not exist")
    prefix = source.get("prefix", "")
    # Keys that are no variable name are skipped by the kubelet (with an event), as here.
    return {prefix + k: v.decode() for k, v in found.items() if ENV_NAME.match(prefix + k)}


def env_value(var: Doc, env: dict[str, str], cluster: Cluster, where: str) -> str | None:
    if "value" in var:
        return expand(str(var["value"]), env, where)
    value_from = var.get("valueFrom")
    if value_from is None:
        return ""
    for kind, ref_key in (("Secret", "secretKeyRef"), ("ConfigMap", "configMapKeyRef")):
        if ref_key in value_from:
            ref = value_from[ref_key]
            found = cluster.source(kind, ref["name"], where)
            if found is None or ref["key"] not in found:
                if ref.get("optional"):
                    return None
                missing = f"{kind} {ref['name']!r}" + (
                    f" has no key {ref['key']!r}" if found else ""
                )
                raise Unresolved(f"{where}: {missing}{'' if found else ' does not exist'}")
            return found[ref["key"]].decode()
    raise Unresolved(f"{where}: this resolver knows no {sorted(value_from)}")


def expand(text: str, env: dict[str, str], where: str) -> str:
    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        if name not in env:
            raise Unresolved(f"{where}: $({name}) names no variable defined before it")
        return env[name]

    return REFERENCE.sub(one, text)


def named_ports(probe: Doc, ports: dict[str, int]) -> Doc:
    for kind in ("grpc", "httpGet", "tcpSocket"):
        if kind in probe:
            action = dict(probe[kind])
            port = action["port"]
            action["port"] = ports[port] if isinstance(port, str) else port
            timing: Doc = {k: probe[k] for k in ("periodSeconds", "failureThreshold") if k in probe}
            return {kind: action, **timing}
    raise Unresolved(f"a probe with no action this resolver knows: {sorted(probe)}")


def mount(volume_mount: Doc, volumes: dict[str, Doc], cluster: Cluster, where: str) -> Mount:
    where = f"{where} volumeMount {volume_mount['name']}"
    if "subPath" in volume_mount:
        raise Unresolved(f"{where}: subPath is not supported here")
    volume = volumes.get(volume_mount["name"])
    if volume is None:
        raise Unresolved(f"{where}: no volume of that name in the pod")
    path, read_only = volume_mount["mountPath"], bool(volume_mount.get("readOnly"))
    if "emptyDir" in volume:
        return Mount(path, {}, read_only, empty_dir=True)
    kind, source = (
        ("Secret", volume.get("secret"))
        if "secret" in volume
        else (
            "ConfigMap",
            volume.get("configMap"),
        )
    )
    if source is None:
        raise Unresolved(f"{where}: only secret, configMap and emptyDir volumes are supported")
    name = source["secretName"] if kind == "Secret" else source["name"]
    found = cluster.source(kind, name, where)
    if found is None:
        if source.get("optional"):
            return Mount(path, {}, read_only, empty_dir=False)
        raise Unresolved(f"{where}: {kind} {name!r} does not exist")
    mode = source.get("defaultMode", 0o644)
    items = source.get("items") or [{"key": k, "path": k} for k in sorted(found)]
    files = {}
    for item in items:
        if item["key"] not in found:
            if source.get("optional"):
                continue
            raise Unresolved(f"{where}: {kind} {name!r} has no key {item['key']!r}")
        files[item["path"]] = (found[item["key"]], item.get("mode", mode))
    return Mount(path, files, read_only, empty_dir=False)
