from runtime.migrate import run_env
from services.ops import timer_tables
from services.ops.tables import metadata

# timer_tables puts its tables on the ops MetaData when imported; Alembic must see them too.
REGISTERED = (timer_tables,)
run_env(metadata)
