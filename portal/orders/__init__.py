"""Orders: the unified orders of every platform and their lifecycle."""
