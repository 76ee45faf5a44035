"""`make docs`: writes the README's generated parts and checks the service READMEs' settings
tables against the code; `--check` only says which parts differ.

python -m docgen [--check]"""

from __future__ import annotations

import sys

from docgen import events, routes, service_readmes, settings
from docgen.catalog import DocsError
from docgen.readme import parts, regenerated
from docgen.source import ROOT

README = ROOT / "README.md"
MAKERS = {"routes": routes.table, "settings": settings.table, "audit-events": events.table}


def main(argv: list[str]) -> int:
    text = README.read_text()
    try:
        service_readmes.check()  # checked, not written: they keep their own words
        made = regenerated(text, MAKERS)
    except DocsError as exc:
        print(f"make docs: {exc}", file=sys.stderr)
        return 2
    if made == text:
        return 0
    if "--check" in argv:
        before, after = parts(text), parts(made)
        stale = [name for name in after if before[name] != after[name]]
        print(f"README.md differs from `make docs` in: {', '.join(stale)}", file=sys.stderr)
        return 1
    README.write_text(made)
    print("README.md: generated parts written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
