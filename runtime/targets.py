"""Where a peer is reached: TRADEOPS_<SVC>_ADDR is a gRPC target naming one backend or several,
and every channel spreads its calls over all of them (round robin, runtime.clients):

- `host:port`: one name or address (a name that resolves to several addresses gives several);
- `dns:///host:port`: the same, said the gRPC way: a Kubernetes headless Service's name
  resolves to every ready pod, and is resolved again whenever a connection fails;
- `ipv4:10.0.0.5:50052,10.0.0.6:50052` or `ipv6:[fd00::5]:50052,...`: gRPC's static lists;
- `10.0.0.5:50052,10.0.0.6:50052`: the same list without the scheme (addresses only: a list of
  names is refused, since no gRPC resolver takes one; use `dns:///` and a name per service).

A static list under mutual TLS checks each backend's certificate against the peer's process
name (`ops`, ...: every certificate `tradeops certs` makes carries it) or, with no name given,
the one host all entries share."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

SCHEMES = ("dns:", "ipv4:", "ipv6:", "unix:", "unix-abstract:")


class BadTarget(ValueError):
    """An address no gRPC resolver would take."""


def from_env(env: Mapping[str, str], defaults: Mapping[str, int]) -> dict[str, str]:
    """Each service's target, from TRADEOPS_<SVC>_ADDR (`127.0.0.1:<default port>` when unset),
    translated to gRPC's syntax; a malformed one is refused naming its variable."""
    found = {}
    for svc, port in defaults.items():
        variable = f"TRADEOPS_{svc.upper()}_ADDR"
        raw = env.get(variable, "").strip() or f"127.0.0.1:{port}"
        try:
            found[svc] = translate(raw)
        except BadTarget as exc:
            raise BadTarget(f"{variable}={raw!r}: {exc}") from None
    return found


def translate(address: str) -> str:
    """The gRPC target for an address in any form above; raises BadTarget saying what is wrong."""
    if "," in address and not address.startswith(("ipv4:", "ipv6:")):
        entries = [_host_port(entry.strip()) for entry in address.split(",")]
        families = {_family(host) for host, _ in entries}
        if len(families) > 1:
            raise BadTarget("a static list takes IPv4 or IPv6 addresses, not both")
        return f"{families.pop()}:" + ",".join(_join(host, port) for host, port in entries)
    if address.startswith(("ipv4:", "ipv6:")):
        scheme, _, rest = address.partition(":")
        for entry in rest.split(","):
            host, _port = _host_port(entry.strip())
            if _family(host) != scheme:
                raise BadTarget(f"{entry.strip()!r} is not an {scheme} address")
        return address
    if address.startswith("dns:"):
        name = address.removeprefix("dns:")
        if name.startswith("//"):  # dns://[authority]/host:port
            name = name[2:].partition("/")[2]
        _host_port(name)
        return address
    if address.startswith(SCHEMES):
        return address
    _host_port(address)
    return address


def static_entries(target: str) -> list[str]:
    """The `host:port` entries of a static list (a translated target), [] for any other."""
    if not target.startswith(("ipv4:", "ipv6:")):
        return []
    return target.partition(":")[2].split(",")


def static_hosts(target: str) -> list[str]:
    """The hosts of a static list (a translated target), [] for any other target."""
    return [_host_port(entry)[0] for entry in static_entries(target)]


def _host_port(entry: str) -> tuple[str, int]:
    host, colon, port = entry.rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BadTarget(
            f"{entry!r} is not host:port (forms: host:port, dns:///host:port, "
            "ipv4:a:port,b:port, or a comma list of addresses)"
        )
    return host.removeprefix("[").removesuffix("]"), int(port)


def _family(host: str) -> str:
    try:
        return f"ipv{ipaddress.ip_address(host).version}"
    except ValueError:
        raise BadTarget(
            f"{host!r} in a static list is not an IP address; for names use dns:///name:port "
            "(a Kubernetes headless Service), which resolves to every replica"
        ) from None


def _join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
