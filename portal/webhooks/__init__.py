"""Inbound platform webhooks, and the Webhook log page where admins inspect and replay them."""
