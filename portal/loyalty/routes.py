"""Loyalty pages."""
