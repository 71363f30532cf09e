"""One row in every tenant table for a company, written as the owner: the material of the RLS tests."""
import uuid

import psycopg
from psycopg.types.json import Jsonb

# Every tenant table of the schema; test_schema checks this list against the database.
TENANT_TABLES = [
    "users", "integration_configs", "products", "delivery_orders", "order_status_history", "menu_mappings",
    "webhook_logs", "loyalty_programs", "loyalty_tiers", "customer_loyalty", "loyalty_transactions",
    "ai_chatbot_sessions", "chat_messages", "whatsapp_templates", "whatsapp_messages",
    "integration_analytics", "audit_logs", "platform_calls",
    # analytics
    "analytics_daily", "analytics_daily_items", "analytics_daily_customers", "analytics_dirty_days",
    "modifier_groups", "modifier_options", "menu_sold_out", "menu_availability_pushes", "menu_sync_runs",
    "platform_products",
    # company settings
    "company_logos", "opening_hours", "holiday_closures", "alert_incidents",
    "outbound_emails",  # (0014 left it out of this list)
    "user_sessions",  # accounts
    "account_tokens", "recovery_codes",  # reset/invitation links, two-factor recovery codes
    "whatsapp_connections", "whatsapp_notification_rules", "whatsapp_contacts", "whatsapp_inbound_messages",
]


def fill_every_table(conninfo, company_id, tag):
    """Insert a row into each tenant table for `company_id` (the company row itself must exist)."""
    ids = {name: uuid.uuid4() for name in ("user", "integration", "product", "order", "program", "tier",
                                              "member", "session", "template", "call", "modifier_group",
                                              "connection")}
    c = str(company_id)
    with psycopg.connect(conninfo, autocommit=True) as db:
        run = db.execute
        run("INSERT INTO users (id, email, password, first_name, last_name, role, company_id) "
            "VALUES (%s, %s, 'x', 'Row', 'Owner', 'USER', %s)", (ids["user"], f"row-{tag}@{tag}.test", c))
        run("INSERT INTO integration_configs (id, platform, company_id) VALUES (%s, 'DHUB', %s)",
            (ids["integration"], c))
        run("INSERT INTO products (id, local_product_id, name, price, company_id) VALUES (%s, 'P1', %s, 10, %s)",
            (ids["product"], f"Product {tag}", c))
        run("INSERT INTO delivery_orders (id, platform, platform_order_id, order_number, total_amount, "
            "order_items, company_id, integration_config_id, customer_name, customer_phone) "
            "VALUES (%s, 'DHUB', %s, %s, 10, '[]', %s, %s, %s, '+966500000000')",
            (ids["order"], f"po-{tag}", f"N-{tag}", c, ids["integration"], f"Customer {tag}"))
        run("INSERT INTO user_sessions (user_id, company_id) VALUES (%s, %s)", (ids["user"], c))
        run("INSERT INTO account_tokens (user_id, company_id, purpose, token_hash, expires_at) "
            "VALUES (%s, %s, 'RESET', md5(%s) || md5(%s), now() + interval '1 hour')", (ids["user"], c, tag, c))
        run("INSERT INTO recovery_codes (user_id, company_id, code_hash) VALUES (%s, %s, md5(%s))",
            (ids["user"], c, tag))
        run("INSERT INTO outbound_emails (company_id, to_address, subject, body_text) VALUES (%s, %s, %s, %s)",
            (c, f"row@{tag}.test", f"Mail {tag}", f"Body {tag}"))
        run("INSERT INTO order_status_history (order_id, to_status, company_id) VALUES (%s, 'PENDING', %s)",
            (ids["order"], c))
        run("INSERT INTO menu_mappings (local_product_id, platform_product_id, product_name, product_price, "
            "platform, company_id, integration_config_id) VALUES ('P1', 'X1', 'Mapped', 10, 'DHUB', %s, %s)",
            (c, ids["integration"]))
        run("INSERT INTO webhook_logs (platform, event_type, payload, company_id) VALUES ('DHUB', 'order', %s, %s)",
            (Jsonb({"tag": tag}), c))
        run("INSERT INTO loyalty_programs (id, name, company_id) VALUES (%s, 'Program', %s)", (ids["program"], c))
        run("INSERT INTO loyalty_tiers (id, loyalty_program_id, name, company_id) VALUES (%s, %s, 'Gold', %s)",
            (ids["tier"], ids["program"], c))
        run("INSERT INTO customer_loyalty (id, customer_phone, loyalty_program_id, company_id) "
            "VALUES (%s, '+966500000000', %s, %s)", (ids["member"], ids["program"], c))
        run("INSERT INTO loyalty_transactions (customer_loyalty_id, order_id, transaction_type, points, company_id) "
            "VALUES (%s, %s, 'EARN', 10, %s)", (ids["member"], ids["order"], c))
        run("INSERT INTO ai_chatbot_sessions (id, session_id, channel, company_id) VALUES (%s, %s, 'WHATSAPP', %s)",
            (ids["session"], f"s-{tag}", c))
        run("INSERT INTO chat_messages (chatbot_session_id, sender, content, company_id) "
            "VALUES (%s, 'CUSTOMER', 'hello', %s)", (ids["session"], c))
        run("INSERT INTO whatsapp_templates (id, name, body, company_id) VALUES (%s, 'greeting', 'Hi', %s)",
            (ids["template"], c))
        run("INSERT INTO whatsapp_messages (recipient_phone, message_content, message_type, template_id, company_id) "
            "VALUES ('+966500000000', 'Hi', 'TEMPLATE', %s, %s)", (ids["template"], c))
        run("INSERT INTO integration_analytics (platform, metric_name, metric_value, metric_unit, aggregation_type, "
            "period_start, period_end, company_id) VALUES ('DHUB', 'api_response_time', 12, 'ms', 'AVG', now(), "
            "now(), %s)", (c,))
        run("INSERT INTO audit_logs (table_name, operation, company_id) VALUES ('test', 'INSERT', %s)", (c,))
        run("INSERT INTO platform_calls (id, integration_config_id, order_id, action, method, url, company_id) "
            "VALUES (%s, %s, %s, 'ACCEPT', 'PUT', 'http://127.0.0.1/x', %s)",
            (ids["call"], ids["integration"], ids["order"], c))
        # analytics: the order above already marked its day dirty; one rolled-up day besides.
        run("INSERT INTO analytics_daily SELECT * FROM analytics_daily_live(%s, ARRAY[current_date - 1, current_date])"
            " UNION ALL SELECT %s, current_date - 400, 'DHUB', 1, 1, 1, 0, 0, 0, 10, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0,"
            " '{}', '{}', array_fill(0, ARRAY[24]), 0, now()", (c, c))
        run("INSERT INTO analytics_daily_items (company_id, day, platform, kind, name, quantity, sales)"
            " VALUES (%s, current_date - 400, 'DHUB', 'ITEM', %s, 1, 10)", (c, f"Item {tag}"))
        run("INSERT INTO analytics_daily_customers (company_id, day, platform, customer_key, orders)"
            " VALUES (%s, current_date - 400, 'DHUB', analytics_customer_key('+966500000000'), 1)", (c,))
        run("INSERT INTO analytics_dirty_days (company_id, day) VALUES (%s, current_date - 400)"
            " ON CONFLICT DO NOTHING", (c,))
        # Menu
        run("INSERT INTO modifier_groups (id, product_id, name, company_id) VALUES (%s, %s, 'Size', %s)",
            (ids["modifier_group"], ids["product"], c))
        run("INSERT INTO modifier_options (group_id, name, price_delta, company_id) VALUES (%s, 'Large', 2, %s)",
            (ids["modifier_group"], c))
        run("INSERT INTO menu_sold_out (product_id, until_kind, company_id) VALUES (%s, 'INDEFINITE', %s)",
            (ids["product"], c))
        run("INSERT INTO menu_availability_pushes (platform_call_id, product_id, integration_config_id, available, "
            "source, company_id) VALUES (%s, %s, %s, false, 'SOLD_OUT', %s)",
            (ids["call"], ids["product"], ids["integration"], c))
        run("INSERT INTO menu_sync_runs (integration_config_id, platform, company_id) VALUES (%s, 'DHUB', %s)",
            (ids["integration"], c))
        run("INSERT INTO platform_products (integration_config_id, platform, platform_product_id, name, source, "
            "company_id) VALUES (%s, 'DHUB', %s, 'Seen', 'ORDER', %s)", (ids["integration"], f"pp-{tag}", c))
        # Company settings
        run("INSERT INTO company_logos (company_id, content_type, data) VALUES (%s, 'image/png', %s)",
            (c, b"\x89PNG\r\n\x1a\n" + tag.encode()))
        run("INSERT INTO opening_hours (company_id, weekday, opens_at, closes_at) VALUES (%s, 0, '18:00', '02:00')",
            (c,))
        run("INSERT INTO holiday_closures (company_id, starts_on, ends_on, note) VALUES (%s, current_date, "
            "current_date, %s)", (c, f"Holiday {tag}"))
        run("INSERT INTO alert_incidents (company_id, kind, subject_id) VALUES (%s, 'ORDER_WAITING', %s)",
            (c, ids["order"]))
        # WhatsApp
        run("INSERT INTO whatsapp_connections (id, company_id, phone_number_id, access_token, app_secret, "
            "verify_token) VALUES (%s, %s, %s, 'sealed', 'sealed', 'sealed')",
            (ids["connection"], c, str(100000 + len(tag))))
        run("INSERT INTO whatsapp_notification_rules (company_id, event, template_name) "
            "VALUES (%s, 'ORDER_READY', 'greeting')", (c,))
        run("INSERT INTO whatsapp_contacts (company_id, phone, profile_name) VALUES (%s, '+966500000000', %s)",
            (c, f"Contact {tag}"))
        run("INSERT INTO whatsapp_inbound_messages (company_id, connection_id, wamid, from_phone, message_type, "
            "body, payload) VALUES (%s, %s, %s, '+966500000000', 'text', 'hi', '{}')",
            (c, ids["connection"], f"wamid.in-{tag}"))
    return ids
