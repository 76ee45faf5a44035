from runtime.migrate import run_env
from services.audit.tables import metadata

run_env(metadata)
