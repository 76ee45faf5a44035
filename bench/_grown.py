"""A large seeded log (bench/_seed_log.py) for bench/audit_growth.py; import-only (`make bench`
skips bench/_*.py).

Kept in CACHE/audit-seeded-<N>/ (data folder, keys file, `ready` written last) like
_populated.py's log, but used in place rather than copied (10 million records take ~8 GB, and
a copy would cost minutes a run): before each run everything past the first N records (the
previous run's appends and its audited reads) is deleted again as superuser, so every run starts
from the same N records, and after it, so the folder does not grow."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from _common import Cluster, postgres
from _populated import KEYS, cached_log
from _seed_log import seed
from psycopg import Connection

from services.audit.log.domain.keyring import Keyring

_BACK = (
    # The log's tables refuse DELETE by trigger (append-only), the superuser's too; triggers
    # do not fire in the replica role, which only a superuser may take.
    "SET LOCAL session_replication_role = replica",
    "DELETE FROM audit.records WHERE seq >= %(n)s",
    "DELETE FROM audit.payloads WHERE seq >= %(n)s",
    "DELETE FROM audit.redactions WHERE seq >= %(n)s",
    # A node is past N once its last leaf is: (idx + 1) * 2^level > N.
    "DELETE FROM audit.nodes WHERE (idx + 1) << level > %(n)s",
    "DELETE FROM audit.checkpoints WHERE tree_size > %(n)s",
    "UPDATE audit.head SET size = %(n)s,"
    " last_hash = (SELECT leaf_hash FROM audit.records WHERE seq = %(n)s - 1)",
)


def truncate_back(admin_url: str, count: int) -> int:
    """Deletes every record past `count` (and its nodes and checkpoints); how many it deleted."""
    with Connection.connect(admin_url) as conn:
        size = int(conn.execute("SELECT size FROM audit.head").fetchone()[0])  # type: ignore[index]
        if size > count:
            for statement in _BACK:
                conn.execute(statement, {"n": count})
        conn.commit()
    if size > count:
        with Connection.connect(admin_url, autocommit=True) as conn:
            conn.execute("VACUUM audit.records, audit.payloads, audit.nodes, audit.checkpoints")
    return size - count


@contextlib.contextmanager
def grown(count: int) -> Iterator[tuple[Cluster, Path]]:
    """A running durable server on the cached log of exactly `count` records, and its keys."""
    folder = cached_log(f"audit-seeded-{count}", count, partial(_seeded, count))
    with postgres(folder / "pgdata") as cluster:
        extra = truncate_back(cluster.admin_url, count)
        if extra:
            print(f"  removed {extra:,} records an earlier run appended", flush=True)
        try:
            yield cluster, folder / KEYS
        finally:
            truncate_back(cluster.admin_url, count)


def _seeded(count: int, cluster: Cluster, keyring: Keyring) -> None:
    seed(cluster.admin_url, keyring, count)
