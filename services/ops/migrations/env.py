from runtime.migrate import run_env
from services.ops.tables import metadata

run_env(metadata)
