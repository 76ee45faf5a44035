"""The export service: builds signed, verifiable exports of audit data and reports, delivers
them, verifies them after delivery and runs scheduled exports (README.md). One bounded context in
the shape ARCHITECTURE.md names: domain/, settings.py, tables.py, repository/, clients/ (the
peers read over gRPC and the outside destinations), service/, grpc_api/, workers/, cli.py.

Code beside the service (`tradeops deploy init`, services/deploy.py) uses only the names below."""

from services.export.service.signing_key import create_signing_key
from services.export.settings import DEPLOYED_VERIFY_KEYS

__all__ = ["DEPLOYED_VERIFY_KEYS", "create_signing_key"]
