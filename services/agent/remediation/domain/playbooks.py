"""Loading the playbooks from services/agent/remediation/playbooks/*.json. The files are data:
editing one changes its logic version, because the version carries a hash of the exact bytes.
A malformed file stops the service from starting rather than planning with half a playbook."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.agent.remediation.domain.dry_run import MODELS
from services.agent.remediation.domain.plans import RISKS, DryRunSpec, Playbook, Step

PLAYBOOKS = Path(__file__).resolve().parent.parent / "playbooks"


class PlaybookError(ValueError):
    """A playbook file is malformed."""


@dataclass(frozen=True)
class Library:
    playbooks: tuple[Playbook, ...]

    def for_decision(self, category: str, kind: str) -> Playbook | None:
        """The playbook naming the category; failing that, the one naming the incident kind."""
        by_category = (p for p in self.playbooks if category in p.categories)
        by_kind = (p for p in self.playbooks if kind in p.kinds)
        return next(by_category, None) or next(by_kind, None)


def load_library(folder: Path = PLAYBOOKS) -> Library:
    return library(
        parse_playbook(path.read_bytes(), path.name) for path in sorted(folder.glob("*.json"))
    )


def library(playbooks: Iterable[Playbook]) -> Library:
    loaded = tuple(playbooks)
    categories = [c for p in loaded for c in p.categories]
    if len(set(categories)) != len(categories):
        raise PlaybookError("each category must be covered by one playbook only")
    return Library(loaded)


def parse_playbook(raw: bytes, origin: str = "playbook") -> Playbook:
    try:
        doc = json.loads(raw)
        steps = tuple(_step(item) for item in doc["steps"])
        playbook = Playbook(
            name=_text(doc, "name"),
            version=_text(doc, "version"),
            digest=hashlib.sha256(raw).hexdigest()[:12],
            categories=tuple(_texts(doc, "categories")),
            description=str(doc.get("description", "")),
            steps=steps,
            kinds=tuple(_texts(doc, "kinds")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlaybookError(f"{origin}: {exc}") from None
    if not playbook.categories or len({s.id for s in steps}) != len(steps):
        raise PlaybookError(f"{origin}: needs categories and unique step ids")
    return playbook


def _step(item: dict[str, Any]) -> Step:
    dry_run = item["dry_run"]
    if dry_run.get("model") not in MODELS:
        raise PlaybookError(f"step {item.get('id')}: dry-run model must be one of {sorted(MODELS)}")
    if item.get("risk") not in RISKS:
        raise PlaybookError(f"step {item.get('id')}: risk must be one of {', '.join(RISKS)}")
    when = item.get("when", {})
    return Step(
        id=_text(item, "id"),
        action=_text(item, "action"),
        risk=item["risk"],
        parameters=dict(item.get("parameters", {})),
        rationale=_text(item, "rationale"),
        dry_run=DryRunSpec(
            dry_run["model"], {k: float(v) for k, v in dry_run.get("assumptions", {}).items()}
        ),
        kinds=frozenset(_texts(when, "kinds")),
        severities=frozenset(_texts(when, "severities")),
    )


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PlaybookError(f"{key!r} must be a non-empty string")
    return value


def _texts(item: dict[str, Any], key: str) -> list[str]:
    values = item.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise PlaybookError(f"{key!r} must be a list of non-empty strings")
    return values
