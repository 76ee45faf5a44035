"""SIEM forwarding throughput: records/s confirmed (the cursor at the end of the log) over RELP
with TLS (`relp+tls`, every record answered by the receiver) against syslog over TLS (`tls`,
confirmed after `confirm_after_s` on a healthy connection, 0.2 s here), from the same durable
log to the same kind of private rsyslogd (imrelp or imtcp, OpenSSL, the same rules writing one
line per message to a file). Each transport runs twice, alternating, and the better run counts.
Target: ratio >= 0.5 (acknowledgements may cost, but not most of the throughput).

    .venv/bin/python bench/siem_relp.py [--records N] [--window W]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import Cluster, postgres, result, scratch
from _populated import populate

from runtime.db import Database
from runtime.pgserver import free_port
from runtime.tls import make_certs
from services.audit.log.domain.keyring import generate_dev_keyring
from services.audit.siem.service import forwarding
from services.audit.siem.settings import Destination
from services.audit.siem.workers.forwarder import Forwarder
from services.audit.siem.workers.lag import LagBoard

TARGET = 0.5
RULES = """
global(workDirectory="{work}"{tls_global})
module(load="{module}"{driver})
ruleset(name="siem" queue.type="Direct") {{
  action(type="omfile" file="{work}/messages.log" template="RSYSLOG_FileFormat")
}}
input(type="{module}" address="127.0.0.1" port="{port}" ruleset="siem"{tls_input})
"""


def config(work: Path, transport: str, certs: Path, port: int) -> str:
    ca, cert, key = certs / "ca.pem", certs / "gateway.pem", certs / "gateway.key"
    if transport == "relp+tls":
        tls_input = f' tls="on" tls.cacert="{ca}" tls.mycert="{cert}" tls.myprivkey="{key}"'
        return RULES.format(
            work=work,
            tls_global="",
            module="imrelp",
            driver=' tls.tlslib="openssl"',
            port=port,
            tls_input=tls_input,
        )
    tls_global = (
        f' DefaultNetstreamDriver="ossl" DefaultNetstreamDriverCAFile="{ca}"'
        f' DefaultNetstreamDriverCertFile="{cert}" DefaultNetstreamDriverKeyFile="{key}"'
    )
    driver = ' StreamDriver.Name="ossl" StreamDriver.Mode="1" StreamDriver.AuthMode="anon"'
    return RULES.format(
        work=work, tls_global=tls_global, module="imtcp", driver=driver, port=port, tls_input=""
    )


@contextlib.contextmanager
def rsyslogd(work: Path, transport: str, certs: Path) -> Iterator[int]:
    work.mkdir(parents=True)
    port = free_port()
    conf = work / "rsyslog.conf"
    conf.write_text(config(work, transport, certs, port))
    subprocess.run(["rsyslogd", "-N1", "-f", str(conf)], check=True, capture_output=True)
    command = ["rsyslogd", "-n", "-f", str(conf), "-i", str(work / "pid")]
    with (work / "rsyslogd.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log)
    try:
        listening = f"0100007F:{port:04X}"
        while not any(
            line.split()[1] == listening and line.split()[3] == "0A"
            for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        ):
            if process.poll() is not None:
                raise RuntimeError(f"rsyslogd exited: {(work / 'rsyslogd.log').read_text()}")
            time.sleep(0.02)
        yield port
    finally:
        process.terminate()
        process.wait(10)


async def confirmed_per_s(url: str, target: Destination, records: int) -> float:
    db = Database.connect(url)
    try:
        task = asyncio.create_task(Forwarder(db, target, LagBoard()).run())
        started = time.perf_counter()
        while True:
            if (await forwarding.confirmed(db, target.name)).seq >= records - 1:
                break
            await asyncio.sleep(0.01)
        took = time.perf_counter() - started
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return records / took
    finally:
        await db.dispose()


def run(
    cluster: Cluster, work: Path, transport: str, attempt: int, args: argparse.Namespace
) -> float:
    certs = work / "certs"
    with rsyslogd(work / f"{transport}-{attempt}", transport, certs) as port:
        target = Destination(
            f"bench-{transport}-{attempt}",
            transport,
            "rfc5424",
            host="127.0.0.1",
            port=port,
            ca_file=str(certs / "ca.pem"),
            server_name="localhost",
            hostname="bench",
            confirm_after_s=0.2,
            poll_s=0.05,
            window=args.window,
        )
        rate = asyncio.run(confirmed_per_s(cluster.audit_url, target, args.records))
    print(f"  {transport} run {attempt}: {rate:,.0f} records/s confirmed", flush=True)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--window", type=int, default=128)
    args = parser.parse_args()
    with scratch("siem") as work, postgres(work / "pgdata") as cluster:
        print(f"populating a log of {args.records:,} records", flush=True)
        keyring = generate_dev_keyring("tradeops.bench-siem")
        asyncio.run(populate(cluster, keyring, args.records))
        make_certs(work / "certs")
        rates: dict[str, list[float]] = {"tls": [], "relp+tls": []}
        for attempt in range(2):
            for transport in rates:
                rates[transport].append(run(cluster, work, transport, attempt, args))
    relp, tls = max(rates["relp+tls"]), max(rates["tls"])
    ratio = relp / tls
    result("siem_relp_tls", relp, "records/s", tls, f"ratio>={TARGET}", ratio >= TARGET)


if __name__ == "__main__":
    main()
