"""The customer assistant: what a customer's WhatsApp message is asking for, and the answers to it."""
