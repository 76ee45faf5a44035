from runtime.migrate import run_env
from services.export import scheduling_tables
from services.export.tables import metadata

# scheduling_tables puts its tables on the export MetaData when imported; Alembic must see them.
REGISTERED = (scheduling_tables,)
run_env(metadata)
