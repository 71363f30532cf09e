"""Backups of the whole database: pg_dump -Fc and pg_restore --clean --if-exists as the owner."""
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import make_url


def tool(name):
    """pg_dump/pg_restore next to the embedded PostgreSQL (pgserver wheel) first, else on PATH."""
    try:
        import pgserver
        bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / name
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} was not found next to the embedded PostgreSQL or on PATH.")
    return found


def libpq_url(owner_url):
    return make_url(owner_url).set(drivername="postgresql").render_as_string(hide_password=False)


def default_backup_name(now=None):
    now = now or datetime.now(timezone.utc)
    return f"portal-{now:%Y%m%d-%H%M%S}.dump"


def backup(owner_url, output):
    subprocess.run([tool("pg_dump"), "-Fc", "--no-owner", "-f", str(output), "-d", libpq_url(owner_url)],
                   check=True, capture_output=True, text=True)
    return Path(output)


def restore(owner_url, dump_file):
    subprocess.run([tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
                    "-d", libpq_url(owner_url), str(dump_file)],
                   check=True, capture_output=True, text=True)
