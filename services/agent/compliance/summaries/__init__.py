"""Audit summaries: figures over a window of the audit log, a narrative written from them, and
the seq range and signed checkpoint they were built from."""
