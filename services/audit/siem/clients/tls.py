"""Client TLS contexts for syslog over TLS (RFC 5425) and HTTPS: the destination's CA file (or
the system's), an optional client certificate for mutual TLS, hostname checking always on."""

from __future__ import annotations

import ssl

from services.audit.siem.settings import Destination


def client_context(destination: Destination) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=destination.ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if destination.cert_file:
        context.load_cert_chain(destination.cert_file, destination.key_file)
    return context
