"""`flask --app wsgi assistant …`: the customer assistant's commands for operators."""
import json

import click

from .classifier import classify


@click.group("assistant")
def assistant_group():
    """The customer assistant."""


@assistant_group.command("classify")
@click.argument("messages", type=click.File("r", encoding="utf-8"), default="-")
def classify_command(messages):
    """Print the intent and confidence of each message (one a line, stdin by default) as one JSON line each."""
    for line in messages:
        result = classify(line.rstrip("\r\n"))
        click.echo(json.dumps({"intent": result.intent, "confidence": round(result.confidence, 3)},
                              ensure_ascii=False))
