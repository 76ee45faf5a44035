"""The headers every page the gateway serves carries: one Content-Security-Policy for all of
them (the API docs now, the console next). Scripts come only from the gateway's own files, never
inline, from eval or from another origin; nothing is fetched from, framed by or submitted to
another origin, so a page cannot reach outside the machine even when the bundle it runs would."""

from __future__ import annotations

from fastapi.responses import HTMLResponse

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        # ReDoc's styled-components write styles into <style> elements they create at run time,
        # so no hash or nonce can name them. A style runs no code; script-src stays strict.
        "style-src 'self' 'unsafe-inline'",
        # Swagger UI's stylesheet draws its icons as data: SVG images.
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        # ReDoc builds its search index in a worker made from a blob: URL of its own code.
        "worker-src blob:",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Nothing to other sites; our own get an Origin (no-referrer makes a form's Origin "null",
    # and the console checks it on every POST).
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-cache",
}


def page(html: str) -> HTMLResponse:
    return HTMLResponse(html, headers=PAGE_HEADERS)
