"""A valid audit log of N records written straight into a migrated database, without the
Sequencer (which takes about 2 minutes per million); import-only (`make bench` skips bench/_*.py).

Every hash comes from the service's own encoding (`records.seal`: canonical record, payload hash,
chain, RFC 6962 leaf hash), the Merkle nodes above the leaves from its own TreeMemory, and a
checkpoint every 1,000 records is signed by its own Checkpointer, so a proof verifies and the
service's start accepts the log. Rows go in by COPY with the tables' indexes dropped and built
again afterwards (one sorted build is several times faster than 10 million random inserts into
the event_id index). Payloads are small; the service never looks inside them."""

from __future__ import annotations

import time
from collections.abc import Iterator

from _common import OCCURRED_AT, ORIGIN
from psycopg import Connection

from services.audit.log.domain.checkpoints.cutting import Cadence, Checkpointer
from services.audit.log.domain.keyring import Keyring
from services.audit.log.domain.merkle.hashing import HASH_SIZE
from services.audit.log.domain.merkle.memory import TreeMemory
from services.audit.log.domain.records import GENESIS, Actor, Event, rfc3339, seal

EVERY = 1000  # records between signed checkpoints, as the benchmarks' service cuts them
CHUNK = 50_000  # records per COPY write
TABLES = ("records", "payloads", "nodes", "checkpoints")
_ACTIONS = ("ops.action.approved", "agent.triage.proposed", "export.bundle.signed")
_ACTORS = tuple(Actor(f"user-{n}", ("ops",), "person") for n in range(97))


def event(index: int) -> Event:
    """Seeded events: ids of their own (0x5EED...), so the benchmarks' appends never collide."""
    return Event(
        event_id=f"5eed0000-0000-4000-8000-{index:012x}",
        occurred_at=OCCURRED_AT,
        actor=_ACTORS[index % 97],
        action=_ACTIONS[index % 3],
        target=f"action/{index // 3}",
        outcome="success",
        trace_id=f"{index:032x}",
        source="ops",
        payload_json=f'{{"n":{index}}}',
    )


def _batches(count: int, memory: TreeMemory) -> Iterator[tuple[str, str, str]]:
    """(records COPY text, payloads COPY text, last leaf hash) per CHUNK, feeding `memory`."""
    prev, occurred = GENESIS, rfc3339(OCCURRED_AT)
    for start in range(0, count, CHUNK):
        rows, payloads, leaves = [], [], []
        for seq in range(start, min(start + CHUNK, count)):
            e = event(seq)
            r = seal(seq, e, prev)
            prev = r.leaf_hash
            rows.append(
                f"{seq}\t{e.event_id}\t{occurred}\t{e.actor.canonical}\t{e.action}\t{e.target}"
                f"\tsuccess\t{e.trace_id}\tops\t{r.payload_sha256}\t{r.prev_hash}\t{prev}\n"
            )
            payloads.append(f"{seq}\t{e.payload_json}\n")
            leaves.append(prev)
        memory.extend_joined(start, bytes.fromhex("".join(leaves)))
        yield "".join(rows), "".join(payloads), prev


_COLUMNS = (
    "seq, event_id, occurred_at, actor, action, target, outcome, trace_id, source,"
    " payload_sha256, prev_hash, leaf_hash"
)


def _copy_records(url: str, count: int, memory: TreeMemory) -> str:
    """Records and payloads, each COPY on its own connection (one COPY a connection)."""
    last, started = GENESIS, time.perf_counter()
    records = f"COPY audit.records ({_COLUMNS}) FROM STDIN"
    with Connection.connect(url) as conn, Connection.connect(url) as other:
        with (
            conn.cursor() as cur,
            cur.copy(records) as rec,
            other.cursor() as cur2,
            cur2.copy("COPY audit.payloads FROM STDIN") as pay,
        ):
            for done, (rows, texts, tip) in enumerate(_batches(count, memory), 1):
                rec.write(rows)
                pay.write(texts)
                last = tip
                if done % 20 == 0:
                    rate = done * CHUNK / (time.perf_counter() - started)
                    print(f"  seeded {done * CHUNK:,} records ({rate:,.0f}/s)", flush=True)
        other.commit()
        conn.commit()
    return last


def _node_lines(memory: TreeMemory, count: int, level: int) -> Iterator[str]:
    for start in range(0, count >> level, CHUNK):
        end = min(start + CHUNK, count >> level)
        found = memory.nodes((level, i) for i in range(start, end))
        yield "".join(f"{level}\t{i}\t\\\\x{found[(level, i)].hex()}\n" for i in range(start, end))


def _copy_nodes(conn: Connection, memory: TreeMemory, count: int) -> None:
    with conn.cursor() as cur, cur.copy("COPY audit.nodes (level, idx, hash) FROM STDIN") as copy:
        for level in range(1, count.bit_length()):
            for text in _node_lines(memory, count, level):
                copy.write(text)


def _copy_checkpoints(conn: Connection, memory: TreeMemory, keyring: Keyring, count: int) -> None:
    signer = Checkpointer(keyring, ORIGIN, Cadence(EVERY, EVERY))
    sizes = [*range(EVERY, count + 1, EVERY)]
    if not sizes or sizes[-1] != count:
        sizes.append(count)
    columns = "tree_size, root_hash, key_id, note"
    with conn.cursor() as cur, cur.copy(f"COPY audit.checkpoints ({columns}) FROM STDIN") as copy:
        for size in sizes:
            cut = signer.cut(size, memory.root(size))
            copy.write_row((size, cut.root_hex, cut.key_id_hex, cut.note))


def _index_definitions(conn: Connection) -> tuple[list[str], list[str]]:
    """(statements dropping every index of the seeded tables, statements making them again)."""
    drop, make = [], []
    rows = conn.execute(
        "SELECT c.conname, t.relname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
        " JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE n.nspname = 'audit' AND t.relname = ANY(%s) AND c.contype IN ('p', 'u')",
        (list(TABLES),),
    ).fetchall()
    for name, table, definition in rows:
        drop.append(f'ALTER TABLE audit.{table} DROP CONSTRAINT "{name}"')
        make.append(f'ALTER TABLE audit.{table} ADD CONSTRAINT "{name}" {definition}')
    owned = {name for name, _, _ in rows}
    for name, definition in conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'audit'"
        " AND tablename = ANY(%s)",
        (list(TABLES),),
    ).fetchall():
        if name not in owned:
            drop.append(f'DROP INDEX audit."{name}"')
            make.append(definition)
    return drop, make


def seed(admin_url: str, keyring: Keyring, count: int) -> None:
    """Fills an empty, migrated audit schema with `count` records (superuser connection)."""
    memory = TreeMemory(max_bytes=1 << 40)  # all of it: the seeder writes every node
    started = time.perf_counter()
    with Connection.connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT size FROM audit.head").fetchone() != (0,):
            raise RuntimeError("the audit log to seed is not empty")
        drop, make = _index_definitions(conn)
        for statement in drop:
            conn.execute(statement)
    last = _copy_records(admin_url, count, memory)
    with Connection.connect(admin_url) as conn:
        _copy_nodes(conn, memory, count)
        _copy_checkpoints(conn, memory, keyring, count)
        conn.execute("UPDATE audit.head SET size = %s, last_hash = %s", (count, last))
        print(f"  rows copied in {time.perf_counter() - started:.0f} s; indexing", flush=True)
        conn.execute("SET maintenance_work_mem = '512MB'")
        for statement in make:
            conn.execute(statement)
        conn.commit()
    with Connection.connect(admin_url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) audit.records, audit.payloads, audit.nodes")
    assert memory.size == count
    assert len(memory.node((0, count - 1))) == HASH_SIZE
    print(f"  seeded {count:,} records in {time.perf_counter() - started:.0f} s", flush=True)
