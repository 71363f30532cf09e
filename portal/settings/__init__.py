"""Company settings: the company's details, opening hours and holidays, and alerts to managers."""
from .routes import bp

__all__ = ["bp"]
