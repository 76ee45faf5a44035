"""Forwarding of the audit log (records and signed checkpoints) to SIEM destinations:
RFC 5424 or CEF over TCP/TLS syslog or RELP (acknowledged), or JSON to an HTTP event collector,
at least once, from a durable cursor per destination. It reads the log through the shared
tables and the log's public surface only."""
