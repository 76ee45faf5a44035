"""SIEM forwarding throughput: records/s confirmed (the cursor at the end of the log) over RELP
with TLS (`relp+tls`, every record answered by the receiver) against syslog over TLS (`tls`,
confirmed after `confirm_after_s` on a healthy connection, 0.2 s here), from the same durable
log to the tests' private rsyslogd (tests/audit/siem/rsyslog.py: imrelp or imtcp, OpenSSL, the
same rules writing one line per message to a file). Each transport runs twice, alternating,
and the better run counts.
Target: ratio >= 0.5 (acknowledgements may cost, but not most of the throughput).

    .venv/bin/python bench/siem_relp.py [--records N] [--window W]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import Cluster, postgres, result, scratch
from _populated import populate

from runtime.db import Database
from services.audit.log.domain.keyring import generate_dev_keyring
from services.audit.siem.service import forwarding
from services.audit.siem.settings import Destination
from services.audit.siem.workers.forwarder import Forwarder
from services.audit.siem.workers.lag import LagBoard
from tests.audit.siem.certs import Pki, make_pki
from tests.audit.siem.rsyslog import receiver

TARGET = 0.5


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
    cluster: Cluster, work: Path, pki: Pki, transport: str, attempt: int, args: argparse.Namespace
) -> float:
    folder = work / f"{transport}-{attempt}"
    with receiver(folder, relp=transport == "relp+tls", pki=pki) as syslog:
        target = Destination(
            f"bench-{transport}-{attempt}",
            transport,
            "rfc5424",
            host="127.0.0.1",
            port=syslog.port,
            ca_file=str(pki.ca_file),
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
        (work / "certs").mkdir()
        pki = make_pki(work / "certs")
        rates: dict[str, list[float]] = {"tls": [], "relp+tls": []}
        for attempt in range(2):
            for transport in rates:
                rates[transport].append(run(cluster, work, pki, transport, attempt, args))
    relp, tls = max(rates["relp+tls"]), max(rates["tls"])
    ratio = relp / tls
    result("siem_relp_tls", relp, "records/s", tls, f"ratio>={TARGET}", ratio >= TARGET)


if __name__ == "__main__":
    main()
