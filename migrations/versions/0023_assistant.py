"""Customer assistant and staff inbox: what the seed's ai_chatbot_sessions and chat_messages lacked.

- ai_chatbot_sessions: who holds the conversation (status ASSISTANT, STAFF or CLOSED), when and why it
  was handed to staff, misunderstandings in a row, the customer's language, the order the customer
  proved is theirs (order number + last four digits of the phone), the last message time (the Inbox
  sorts on it). For the web widget, session_id is the SHA-256 of the browser's secret token.
- chat_messages: senders CUSTOMER, ASSISTANT, STAFF (the seed said BOT and AGENT); the staff member
  who wrote, the answer template used, the WhatsApp message id.
- companies.assistant_enabled: off, every customer message goes straight to staff (no automatic answer).
- companies.public_chat_id: the unguessable id in the widget's address (/chat/<id>). portal_webhook
  may read a company's id, that column and its state, to resolve the address before any tenant.

Revision ID: 0023_assistant
Revises: 0022_whatsapp
"""
from alembic import op

revision = "0023_assistant"
down_revision = "0022_whatsapp"
branch_labels = None
depends_on = None

WEBHOOK_ROLE = "portal_webhook"


def upgrade():
    op.execute("""
    ALTER TABLE companies ADD COLUMN public_chat_id VARCHAR(32) NOT NULL
      DEFAULT replace(gen_random_uuid()::text, '-', '');
    ALTER TABLE companies ADD CONSTRAINT uq_companies_public_chat_id UNIQUE (public_chat_id);
    ALTER TABLE companies ADD COLUMN assistant_enabled BOOLEAN NOT NULL DEFAULT true;

    ALTER TABLE ai_chatbot_sessions
      ADD COLUMN status VARCHAR(20) NOT NULL DEFAULT 'ASSISTANT'
        CHECK (status IN ('ASSISTANT', 'STAFF', 'CLOSED')),
      ADD COLUMN handed_off_at TIMESTAMPTZ,
      ADD COLUMN handoff_reason VARCHAR(40),
      ADD COLUMN misunderstood INTEGER NOT NULL DEFAULT 0 CHECK (misunderstood >= 0),
      ADD COLUMN locale VARCHAR(5),
      ADD COLUMN order_id UUID,
      ADD COLUMN last_message_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      ADD CONSTRAINT fk_chatbot_sessions_order FOREIGN KEY (company_id, order_id)
        REFERENCES delivery_orders (company_id, id) ON DELETE SET NULL (order_id);
    CREATE INDEX ix_chatbot_sessions_inbox ON ai_chatbot_sessions (company_id, status, last_message_at DESC);
    CREATE INDEX ix_chatbot_sessions_started ON ai_chatbot_sessions (company_id, started_at);

    UPDATE chat_messages SET sender = CASE sender WHEN 'BOT' THEN 'ASSISTANT' WHEN 'AGENT' THEN 'STAFF' ELSE sender END;
    ALTER TABLE chat_messages DROP CONSTRAINT IF EXISTS chat_messages_sender_check;
    ALTER TABLE chat_messages
      ADD CONSTRAINT chat_messages_sender_check CHECK (sender IN ('CUSTOMER', 'ASSISTANT', 'STAFF')),
      ADD COLUMN user_id UUID,
      ADD COLUMN answer_key VARCHAR(60),
      ADD COLUMN channel_message_id VARCHAR(200),
      ADD CONSTRAINT fk_chat_messages_user FOREIGN KEY (company_id, user_id)
        REFERENCES users (company_id, id) ON DELETE SET NULL (user_id);
    """)
    op.execute(f"""
    GRANT SELECT (id, public_chat_id, is_active, deleted_at) ON companies TO {WEBHOOK_ROLE};
    CREATE POLICY chat_resolve ON companies FOR SELECT TO {WEBHOOK_ROLE} USING (true);
    """)


def downgrade():
    op.execute(f"""
    DROP POLICY IF EXISTS chat_resolve ON companies;
    REVOKE SELECT (id, public_chat_id, is_active, deleted_at) ON companies FROM {WEBHOOK_ROLE};
    ALTER TABLE chat_messages DROP CONSTRAINT IF EXISTS fk_chat_messages_user,
      DROP COLUMN IF EXISTS user_id, DROP COLUMN IF EXISTS answer_key, DROP COLUMN IF EXISTS channel_message_id,
      DROP CONSTRAINT IF EXISTS chat_messages_sender_check;
    UPDATE chat_messages SET sender = CASE sender WHEN 'ASSISTANT' THEN 'BOT' WHEN 'STAFF' THEN 'AGENT' ELSE sender END;
    ALTER TABLE chat_messages ADD CONSTRAINT chat_messages_sender_check CHECK (sender IN ('CUSTOMER', 'BOT', 'AGENT'));
    DROP INDEX IF EXISTS ix_chatbot_sessions_inbox;
    DROP INDEX IF EXISTS ix_chatbot_sessions_started;
    ALTER TABLE ai_chatbot_sessions DROP CONSTRAINT IF EXISTS fk_chatbot_sessions_order,
      DROP COLUMN IF EXISTS status, DROP COLUMN IF EXISTS handed_off_at, DROP COLUMN IF EXISTS handoff_reason,
      DROP COLUMN IF EXISTS misunderstood, DROP COLUMN IF EXISTS locale, DROP COLUMN IF EXISTS order_id,
      DROP COLUMN IF EXISTS last_message_at;
    ALTER TABLE companies DROP CONSTRAINT IF EXISTS uq_companies_public_chat_id, DROP COLUMN IF EXISTS public_chat_id,
      DROP COLUMN IF EXISTS assistant_enabled;
    """)
