from runtime.migrate import run_env
from services.agent.compliance import tables as compliance
from services.agent.probes import tables as probes
from services.agent.remediation import tables as remediation
from services.agent.tables import metadata
from services.agent.triage import tables as triage
from services.agent.workflows import tables as workflows

# Each context's tables module puts its tables on the agent's one MetaData when imported, and
# Alembic must see them all (they no longer import each other back and forth to get there).
REGISTERED = (compliance, probes, remediation, triage, workflows)
run_env(metadata)
