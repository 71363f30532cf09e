"""The embedded PostgreSQL's start-up survives what a killed process leaves behind."""
import json

from portal.embedded_db import _repair_process_list


def test_an_empty_process_list_left_by_a_killed_process_is_started_afresh(tmp_path):
    (tmp_path / ".handle_pids.json").write_text("")  # killed while pgserver was writing it
    _repair_process_list(tmp_path)
    assert json.loads((tmp_path / ".handle_pids.json").read_text()) == []


def test_a_readable_process_list_is_left_alone(tmp_path):
    (tmp_path / ".handle_pids.json").write_text("[101, 202]")
    _repair_process_list(tmp_path)
    assert json.loads((tmp_path / ".handle_pids.json").read_text()) == [101, 202]
    _repair_process_list(tmp_path / "missing")  # no file yet: nothing to do
