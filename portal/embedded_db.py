"""The embedded PostgreSQL (pgserver wheel) used when DATABASE_URL is unset."""
import logging
from pathlib import Path

logger = logging.getLogger(__name__)
_servers = {}


def owner_url(instance_path):
    """Start (or reuse) the PostgreSQL under instance/pgdata and return its owner URL."""
    pgdata = Path(instance_path) / "pgdata"
    if pgdata not in _servers:
        import pgserver  # imported lazily: only the embedded default needs it

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        logger.info("Starting the embedded PostgreSQL in %s", pgdata)
        _servers[pgdata] = pgserver.get_server(pgdata, cleanup_mode="stop")
    return _servers[pgdata].get_uri()
