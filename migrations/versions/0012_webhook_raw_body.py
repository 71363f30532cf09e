"""Webhook bodies that JSONB cannot hold are kept byte for byte in webhook_logs.raw_body.

Before, such a body went into the JSONB payload as {"_raw": text, "_invalid_json": …}: NUL bytes and
invalid UTF-8 were lost, the text was cut at 100,000 characters, and a real body with a `_raw` key
was mistaken for one. Bodies JSONB refuses outright (nesting too deep, 1e400, NaN) made the insert
fail before anything was stored. Now `payload` is NULL for those and `raw_body` holds the exact bytes;
it is also kept, next to the cleaned payload, when strings had to be cleaned (\\u0000, lone surrogates).

Revision ID: 0011_webhook_raw_body
Revises: 0010_loyalty_due_role
"""
from alembic import op

revision = "0012_webhook_raw_body"
down_revision = "0011_loyalty_program_names"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("""
    ALTER TABLE webhook_logs ADD COLUMN raw_body bytea, ALTER COLUMN payload DROP NOT NULL;
    -- The old wrapper: the body's text (read again from raw_body when the webhook is replayed).
    UPDATE webhook_logs SET raw_body = convert_to(payload ->> '_raw', 'UTF8'), payload = NULL
     WHERE payload ? '_raw' AND payload ? '_invalid_json';
    """)


def downgrade():
    op.execute("""
    UPDATE webhook_logs SET payload = jsonb_build_object(
        '_raw', encode(raw_body, 'escape'), '_invalid_json', true)
     WHERE payload IS NULL;
    ALTER TABLE webhook_logs DROP COLUMN raw_body, ALTER COLUMN payload SET NOT NULL;
    """)
