from runtime.migrate import run_env
from services.agent.tables import metadata

run_env(metadata)
