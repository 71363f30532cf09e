"""The embedded PostgreSQL (pgserver wheel) used when DATABASE_URL is unset."""
import atexit
import importlib
import json
import logging
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

logger = logging.getLogger(__name__)
_servers = {}


def owner_url(instance_path):
    """Start (or reuse) the PostgreSQL under instance/pgdata and return its owner URL."""
    pgdata = Path(instance_path) / "pgdata"
    if pgdata not in _servers:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        pgserver = import_pgserver(Path(instance_path))
        repair_process_list(pgdata)
        logger.info("Starting the embedded PostgreSQL in %s", pgdata)
        _servers[pgdata] = pgserver.get_server(pgdata, cleanup_mode="stop")
        # pgserver stops the server when the last process using it exits, by a list of their pids that
        # each removes itself from at exit. A process ended by SIGTERM never did (make run's worker and
        # simulator), so Ctrl+C left PostgreSQL running. Now SIGTERM is a normal exit, and the pids of
        # processes gone without a word are dropped first (atexit runs this before pgserver's own).
        forget_exited_processes(pgdata)
        atexit.register(forget_exited_processes, pgdata)
        _exit_normally_on_sigterm()
    return _servers[pgdata].get_uri()


def import_pgserver(instance_path):
    """pgserver, imported lazily (only the embedded default needs it) with a runtime directory set.

    pgserver keeps its lock file (and, for long paths, its socket) in the user's runtime directory,
    which it asks platformdirs for when it is imported. Without XDG_RUNTIME_DIR (servers, containers,
    `make run` over ssh) platformdirs warned on every start before falling back to
    /tmp/runtime-<uid>. Where the variable is unset, that same directory is named for the import
    (created 0700 as the XDG spec asks; instance/run if someone else owns it), and unset again after.
    """
    if os.environ.get("XDG_RUNTIME_DIR"):
        return importlib.import_module("pgserver")
    os.environ["XDG_RUNTIME_DIR"] = str(private_runtime_dir(Path(instance_path)))
    try:
        return importlib.import_module("pgserver")
    finally:
        del os.environ["XDG_RUNTIME_DIR"]


def private_runtime_dir(instance_path):
    """A short directory only this user can use: the one platformdirs falls back to, or instance/run."""
    for candidate in (Path(tempfile.gettempdir()) / f"runtime-{os.getuid()}", instance_path / "run"):
        try:
            candidate.mkdir(mode=0o700, parents=True, exist_ok=True)
            if candidate.is_symlink() or candidate.stat().st_uid != os.getuid():
                continue
            candidate.chmod(0o700)
        except OSError:
            continue
        return candidate.resolve()
    raise RuntimeError("no private runtime directory for the embedded PostgreSQL")


def forget_exited_processes(pgdata):
    """Drop from pgserver's list the processes that have ended (or are zombies), keeping this one."""
    import psutil  # a pgserver dependency

    path = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return

    def alive(pid):
        try:
            return pid == os.getpid() or psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    living = [pid for pid in pids if alive(pid)]
    if living != pids:
        path.write_text(json.dumps(living))


def _exit_normally_on_sigterm():
    """SIGTERM raises SystemExit, so atexit handlers run (unless the program has its own handler)."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def repair_process_list(pgdata):
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
