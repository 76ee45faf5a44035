"""How a sign-in fails: a status, a code and a message the person can act on, answered as a page
to a browser and as the API's JSON error to anything else. Nothing here sets or clears a
cookie, so a failed attempt leaves the person's session and sign-in in progress as they were."""

from __future__ import annotations

import logging
from html import escape

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from gateway.errors import error_response
from gateway.web.headers import PAGE_HEADERS

log = logging.getLogger(__name__)
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in failed · tradeops</title></head>
<body><main><h1>Sign-in failed</h1><p id="reason">{reason}</p>
<p><a href="{again}">Sign in again</a></p></main></body></html>
"""


class SignInFailed(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def misconfigured(why: str) -> SignInFailed:
    """The provider cannot be used as configured: why is for the operators' log, and like every
    5xx of the gateway the answer names no address or internal detail."""
    log.error("identity provider cannot be used: %s", why)
    return SignInFailed(502, "IDP_MISCONFIGURED", "the identity provider cannot be used")


def answer(request: Request, failed: SignInFailed) -> Response:
    log.info("console sign-in refused: %s %s", failed.code, failed.message)
    if "text/html" not in request.headers.get("accept", ""):
        return error_response(failed.status, failed.code, failed.message)
    again = request.scope.get("root_path", "") + "/console/signin/oidc"
    html = PAGE.format(reason=escape(failed.message), again=escape(again))
    return HTMLResponse(html, status_code=failed.status, headers=PAGE_HEADERS)
