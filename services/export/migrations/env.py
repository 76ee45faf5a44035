from runtime.migrate import run_env
from services.export.tables import metadata

run_env(metadata)
