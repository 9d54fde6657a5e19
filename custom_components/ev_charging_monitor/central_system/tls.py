"""TLS for the central system (OCPP security profile 2)."""

from __future__ import annotations

import ssl


def tls_context(certificate: str, private_key: str) -> ssl.SSLContext:
    """A server context from PEM files, TLS 1.2 or newer (blocking: it reads the files)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certificate, private_key)
    return context
