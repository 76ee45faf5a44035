"""0007_ops_parameters_author: the column as migrated matches services.ops.tables, and its
backfill names the author of each existing action's current parameters where it is known."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine, text

from runtime.db import Database, sqlalchemy_url
from services.ops.tables import metadata
from tests.ops.helpers import propose
from tests.ops.test_parameters_author import BOB, edit

MIGRATION = Path("services/ops/migrations/versions/0007_parameters_author.py")


def migration(repo_root: Path) -> ModuleType:
    """The revision module (its file name starts with a digit, so it is loaded by path)."""
    spec = importlib.util.spec_from_file_location("ops_0007", repo_root / MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _actions_only(item: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
    table = item if type_ == "table" else getattr(item, "table", None)
    return table is not None and table.name == "actions"


def _differences(connection: Connection) -> list[Any]:
    opts = {
        "include_schemas": True,
        "include_name": lambda name, type_, parent: type_ != "schema" or name == "ops",
        "include_object": _actions_only,
        "compare_type": True,
        "compare_server_default": True,
    }
    return list(compare_metadata(MigrationContext.configure(connection, opts=opts), metadata))


def test_the_migrated_actions_table_matches_its_definition(db_urls: dict[str, str]) -> None:
    engine = create_engine(sqlalchemy_url(db_urls["ops"]))
    try:
        with engine.connect() as connection:
            assert _differences(connection) == []
    finally:
        engine.dispose()


async def test_the_backfill_takes_the_requester_or_the_timeline_else_leaves_it_unknown(
    ops_db: Database, repo_root: Path
) -> None:
    original = await propose(ops_db)
    edited = await edit(ops_db, await propose(ops_db), BOB)
    untraced = await edit(ops_db, await propose(ops_db), BOB)
    ids = [original.id, edited.id, untraced.id]
    revision = migration(repo_root)
    async with ops_db.transaction() as session:
        # As the rows stood before the column: no author, and one edit without its entry.
        await session.execute(text("UPDATE ops.actions SET parameters_author = ''"))
        await session.execute(
            text("DELETE FROM ops.timeline WHERE action_id = :id AND kind = 'parameters'"),
            {"id": untraced.id},
        )
        await session.execute(text(revision.ORIGINAL))
        await session.execute(text(revision.EDITED))
        rows = await session.execute(
            text("SELECT id::text, parameters_author FROM ops.actions WHERE id::text = ANY(:ids)"),
            {"ids": ids},
        )
        authors = dict(rows.tuples().all())
    assert [authors[i] for i in ids] == ["rita", "bob", ""]
