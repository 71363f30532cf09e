"""The customer assistant: intents, answers from the portal's rows, handoff to staff, the Inbox and the web chat."""
