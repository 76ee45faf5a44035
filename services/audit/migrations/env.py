from runtime.migrate import run_env
from services.audit.siem import tables as siem
from services.audit.tables import metadata

# siem/tables.py puts the cursor table on the audit MetaData when imported; Alembic must see it.
REGISTERED = (siem,)
run_env(metadata)
