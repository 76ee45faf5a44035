"""The OpenAPI document made to tell the whole truth, by post-processing what FastAPI writes
from the routes (after gateway.rest_schema has added the replies' schemas): each operation's
errors, derived from what it takes and who may call it (gateway.contract.errors); an example of
each reply, written as the gateway writes replies (gateway.contract.examples); the text and
number rules the request models enforce but JSON Schema cannot learn from pydantic
(gateway.contract.rules); links from each create to what uses what it made
(gateway.contract.links); and, in each operation's description, the rules only the service can
check (gateway.contract.checked)."""

from __future__ import annotations

from typing import Any

from gateway.contract import checked, errors, examples, links, rules

Document = dict[str, Any]


def complete(document: Document) -> Document:
    errors.declare(document)
    examples.declare(document)
    rules.declare(document)
    links.declare(document)
    checked.declare(document)
    return document
