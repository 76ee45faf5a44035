"""Fetch-back from an SFTP destination writes only inside its own folder, whatever names the
server lists. A real OpenSSH server never lists such names, so a hostile one is played here by
an object answering scandir/get as asyncssh's client does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from services.export.clients.destinations import DeliveryError
from services.export.clients.destinations.sftp import MAX_DEPTH, _get_tree, plain_name

# SSH_FILEXFER_TYPE_REGULAR and _DIRECTORY of the SFTP draft, as asyncssh's attrs carry them
# (asyncssh itself is imported only by the product module, which silences a warning around it)
FILE = SimpleNamespace(type=1)
FOLDER = SimpleNamespace(type=2)


class HostileServer:
    def __init__(self, listing: dict[str, list[tuple[str, SimpleNamespace]]]) -> None:
        self.listing = listing
        self.fetched: list[tuple[str, str]] = []

    async def scandir(self, remote: str) -> AsyncIterator[SimpleNamespace]:
        for name, attrs in self.listing.get(remote, []):
            yield SimpleNamespace(filename=name, attrs=attrs)

    async def get(self, remote: str, local: str) -> None:
        self.fetched.append((remote, local))


@pytest.mark.parametrize("name", ["../escaped", "/tmp/escaped", "a/../../b", "..\\b", "a\0b", ""])
async def test_a_listed_name_that_is_not_a_plain_file_name_is_refused(
    tmp_path: Path, name: str
) -> None:
    server = HostileServer({"/exports/e1": [("manifest.json", FILE), (name, FILE)]})

    with pytest.raises(DeliveryError, match="not a plain file name"):
        await _get_tree(cast(Any, server), "/exports/e1", tmp_path / "e1")

    # the plain name before it was fetched, into the folder; the hostile one never was
    assert server.fetched == [("/exports/e1/manifest.json", str(tmp_path / "e1/manifest.json"))]


async def test_folders_nested_deeper_than_an_export_has_are_refused(tmp_path: Path) -> None:
    loop = {f"/e{'/d' * depth}": [("d", FOLDER)] for depth in range(MAX_DEPTH + 3)}

    with pytest.raises(DeliveryError, match="deeper than"):
        await _get_tree(cast(Any, HostileServer(loop)), "/e", tmp_path / "e")


def test_plain_names_pass_as_they_are() -> None:
    assert [plain_name(n) for n in ("manifest.json", "records.csv", ".hidden")] == [
        "manifest.json",
        "records.csv",
        ".hidden",
    ]
