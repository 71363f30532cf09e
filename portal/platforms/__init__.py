"""Delivery platform adapters: one module per platform family, one contract (base.py)."""
from .registry import adapter_for, all_adapters

__all__ = ["adapter_for", "all_adapters"]
