"""With TRADEOPS_EXPORT_S3_ENDPOINT_URL set, the S3 store talks to that endpoint only, as the
egress policy judged it: an answer saying the bucket lives in another region (a 301 with
x-amz-bucket-region, as AWS sends) is an error to report, never a reason for boto3 to sign the
request again for that region and send it once more. A local HTTP server answers every request
so and counts what it is sent."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from runtime.egress import parse
from services.export.clients.store import StoreError
from services.export.clients.store.s3 import S3Store
from services.export.settings import S3Settings
from tests.export.s3 import s3_credentials

__all__ = ["s3_credentials"]


class _Elsewhere(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def _moved(self) -> None:
        type(self).seen.append(self.headers.get("Authorization", ""))
        self.send_response(301)
        self.send_header("x-amz-bucket-region", "eu-west-1")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD = do_PUT = _moved

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def elsewhere() -> Iterator[tuple[str, list[str]]]:
    _Elsewhere.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Elsewhere)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", _Elsewhere.seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_region_redirect_from_the_endpoint_is_reported_not_followed(
    elsewhere: tuple[str, list[str]], s3_credentials: dict[str, str], tmp_path: Path
) -> None:
    url, seen = elsewhere

    with pytest.raises(
        StoreError, match=re.escape(f"TRADEOPS_EXPORT_S3_BUCKET=exports at {url}: 301")
    ):
        S3Store.open(S3Settings("exports", endpoint_url=url), tmp_path, parse(""))

    region = s3_credentials["AWS_DEFAULT_REGION"]
    assert len(seen) == 1, seen
    assert f"/{region}/s3/aws4_request" in seen[0]
