"""The embedded PostgreSQL (pgserver wheel) used when DATABASE_URL is unset."""
import json
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
        _repair_process_list(pgdata)
        logger.info("Starting the embedded PostgreSQL in %s", pgdata)
        _servers[pgdata] = pgserver.get_server(pgdata, cleanup_mode="stop")
    return _servers[pgdata].get_uri()


def _repair_process_list(pgdata):
    """pgserver keeps the processes using the server in a JSON file; a process killed while writing
    it leaves it empty, and every later start fails on it. An unreadable list is started afresh."""
    path = pgdata / ".handle_pids.json"
    try:
        json.loads(path.read_text())
    except FileNotFoundError:
        pass
    except ValueError:
        logger.warning("Resetting %s, which a stopped process had left unreadable", path)
        path.write_text("[]")
