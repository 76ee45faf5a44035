"""N pending copies of one proposed action, for console_pages.py; import-only (`make bench`
skips bench/_*.py). The row is COPYed (as superuser) from one the service wrote, so every column,
the policy snapshot included, is the service's own; each copy gets a new id, source_ref,
created_at 30 ms apart and one of ten kinds. (ops_list.py used it before it seeded actions in
every state with _seed_actions.py.)"""

from __future__ import annotations

import io
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg

KINDS = tuple(f"kind_{n}" for n in range(10))


def populate(admin_url: str, template_id: str, count: int) -> list[str]:
    """COPYs `count` pending actions shaped like the template; returns their ids."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        buffer = io.StringIO()
        with conn.cursor().copy(
            "COPY (SELECT * FROM ops.actions WHERE id = %s) TO STDOUT", (template_id,)
        ) as copy:
            for chunk in copy:
                buffer.write(bytes(chunk).decode())
        described = conn.execute("SELECT * FROM ops.actions LIMIT 0").description or []
        columns = [c.name for c in described]
        template = buffer.getvalue().rstrip("\n").split("\t")
        at = {name: i for i, name in enumerate(columns)}
        start = datetime.now(UTC) - timedelta(hours=1)
        ids: list[str] = []
        started = time.perf_counter()
        with conn.cursor().copy(f"COPY ops.actions ({', '.join(columns)}) FROM STDIN") as copy:
            for n in range(count):
                row = list(template)
                created = (start + timedelta(milliseconds=30 * n)).isoformat()
                ids.append(str(uuid.uuid4()))
                row[at["id"]] = ids[-1]
                row[at["kind"]] = KINDS[n % len(KINDS)]
                row[at["source_ref"]] = f"bench-list-{n}"
                row[at["created_at"]] = row[at["updated_at"]] = created
                row[at["expires_at"]] = (start + timedelta(days=2)).isoformat()
                copy.write("\t".join(row) + "\n")  # template fields stay COPY-escaped
        conn.execute("ANALYZE ops.actions")
    print(f"copied {count} pending actions in {time.perf_counter() - started:.1f}s", flush=True)
    return ids
