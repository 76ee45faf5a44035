"""The OpenAPI document made to tell the whole truth, by post-processing what FastAPI writes
from the routes (after gateway.rest_schema has added the replies' schemas): each operation's
errors, derived from what it takes and who may call it (gateway.contract.errors); an example of
each reply, written as the gateway writes replies (gateway.contract.examples); the text and
number rules the request models enforce but JSON Schema cannot learn from pydantic
(gateway.contract.rules); and links from each create to what uses what it made
(gateway.contract.links)."""

from __future__ import annotations

from typing import Any

from gateway.contract import errors, examples, links, rules

Document = dict[str, Any]


def complete(document: Document) -> Document:
    errors.declare(document)
    examples.declare(document)
    rules.declare(document)
    links.declare(document)
    return document
