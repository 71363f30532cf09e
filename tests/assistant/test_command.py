"""`flask --app wsgi assistant classify`: one JSON line out for each line in, and nothing else on stdout."""
import json
import os
import subprocess
from pathlib import Path

from portal.assistant.classifier import INTENTS

ROOT = Path(__file__).resolve().parents[2]
PYTHON = "/work/main/.venv/bin/python"


def test_classify_prints_one_json_line_per_message(runner):
    with runner.app.app_context():
        result = runner.invoke(args=["assistant", "classify"], input="وين طلبي\n\nr u open now\nkam no8a6i\n")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["intent"] for line in lines] == ["order_status", "other", "opening_hours", "loyalty_balance"]
    assert lines[1] == {"intent": "other", "confidence": 0.0}
    assert all(0 <= line["confidence"] <= 1 and round(line["confidence"], 3) == line["confidence"] for line in lines)


def test_classify_keeps_arabic_readable(runner):
    with runner.app.app_context():
        result = runner.invoke(args=["assistant", "classify"], input="مرحبا\n")
    assert result.exit_code == 0
    assert "\\u" not in result.stdout
    assert set(json.loads(result.stdout)) == {"intent", "confidence"}


def test_classify_as_a_real_command_writes_only_json_to_stdout():
    env = {**os.environ, "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres", "PYTHONWARNINGS": "default"}
    completed = subprocess.run([PYTHON, "-m", "flask", "--app", "wsgi", "assistant", "classify"], cwd=ROOT, env=env,
                               input="hi ابي اعرف وين طلبي\nmy food is cold!!\ntalk to a human pls\n",
                               capture_output=True, text=True, encoding="utf-8", timeout=120, check=True)
    lines = completed.stdout.splitlines()
    assert len(lines) == 3, completed.stdout
    results = [json.loads(line) for line in lines]
    assert [result["intent"] for result in results] == ["order_status", "complaint", "human"]
    assert all(set(result) == {"intent", "confidence"} and result["intent"] in INTENTS for result in results)
