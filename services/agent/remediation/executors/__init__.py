"""Executors run an approved action against a desk system: an HMAC-signed webhook, or the
built-in simulator for demos. TRADEOPS_AGENT_EXECUTORS (see config.py) says which runs what."""
