"""The README's reference tables, made from the code: `make docs` writes them between their
markers, and tests/docs/test_generated_tables.py fails while the README's copy differs.

Names come from the code (the gateway's RBAC table, the environment variables and audit event
types the product code spells); the words about them come from this package's catalogs
(settings.toml, audit_events.toml). A name without words, or words without a name, stops the
generator: the catalogs cannot drift from the code either."""
