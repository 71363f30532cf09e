"""The embedded PostgreSQL's start-up survives what a killed process leaves behind."""
import json

from portal.embedded_db import repair_process_list


def test_an_empty_process_list_left_by_a_killed_process_is_started_afresh(tmp_path):
    (tmp_path / ".handle_pids.json").write_text("")  # killed while pgserver was writing it
    repair_process_list(tmp_path)
    assert json.loads((tmp_path / ".handle_pids.json").read_text()) == []


def test_a_readable_process_list_is_left_alone(tmp_path):
    (tmp_path / ".handle_pids.json").write_text("[101, 202]")
    repair_process_list(tmp_path)
    assert json.loads((tmp_path / ".handle_pids.json").read_text()) == [101, 202]
    repair_process_list(tmp_path / "missing")  # no file yet: nothing to do


def test_pgserver_starts_quietly_without_xdg_runtime_dir(tmp_path):
    """`make run` printed platformdirs' "XDG_RUNTIME_DIR is not set" warning on every start."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {key: value for key, value in os.environ.items() if key != "XDG_RUNTIME_DIR"}
    script = ("import os, sys; from portal.embedded_db import import_pgserver;"
              " pgserver = import_pgserver(sys.argv[1]);"
              " print(pgserver.PostgresServer.runtime_path); print(os.environ.get('XDG_RUNTIME_DIR'))")
    result = subprocess.run([sys.executable, "-W", "always", "-c", script, str(tmp_path)], env=env,
                            cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "XDG_RUNTIME_DIR" not in result.stderr and "Warning" not in result.stderr, result.stderr
    runtime_path, leaked = result.stdout.split()
    assert Path(runtime_path).parent.stat().st_mode & 0o777 == 0o700  # private to this user
    assert Path(runtime_path).parent.stat().st_uid == os.getuid()
    assert leaked == "None"  # the variable is not left set for the app's other children


def test_a_runtime_directory_someone_else_could_swap_is_not_used(tmp_path, monkeypatch):
    import tempfile

    from portal.embedded_db import private_runtime_dir

    shared = tmp_path / "tmp"
    shared.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (shared / f"runtime-{__import__('os').getuid()}").symlink_to(tmp_path / "elsewhere")
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(shared))
    assert private_runtime_dir(tmp_path / "instance") == (tmp_path / "instance" / "run").resolve()


def test_processes_gone_without_a_word_leave_the_server_list(tmp_path):
    """pgserver stops PostgreSQL when the last listed process exits; a dead pid would keep it running."""
    import os
    import subprocess

    from portal.embedded_db import forget_exited_processes

    gone = subprocess.Popen(["true"])
    gone.wait()
    alive = subprocess.Popen(["sleep", "30"])
    try:
        (tmp_path / ".handle_pids.json").write_text(json.dumps([gone.pid, os.getpid(), alive.pid]))
        forget_exited_processes(tmp_path)
        assert json.loads((tmp_path / ".handle_pids.json").read_text()) == [os.getpid(), alive.pid]
    finally:
        alive.kill()
        alive.wait()
