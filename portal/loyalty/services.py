"""Loyalty rules shared by programs.py, ledger.py and balance_check.py: the refusal error, the
transaction-type alias, the closed order statuses and money rounding.

The rules themselves: programs.py (programs and tiers), ledger.py (members and every change of their
points: accrual, redemption, refunds, reversals, expiry, adjustments) and balance_check.py (the
ledger against the members' stored balances).
"""
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision

from ..models import LoyaltyTransactionType, OrderStatus

T = LoyaltyTransactionType
CLOSED_ORDER = {OrderStatus.CANCELLED, OrderStatus.REJECTED}


class LoyaltyError(ValueError):
    """A loyalty action that was refused; the message is for the person who tried.

    `field` names the form field the message belongs next to, when there is one.
    """

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def current_time(now=None):
    return now or datetime.now(timezone.utc)


def money_places(currency):
    """Decimal places of a currency (SAR 2, KWD 3)."""
    return get_currency_precision(currency)


def quantize_money(amount, currency):
    return Decimal(amount).quantize(Decimal(1).scaleb(-money_places(currency)), ROUND_HALF_UP)


def plain_number(value):
    """1.5 -> '1.5', 2.00 -> '2' (for sentences)."""
    return format(Decimal(value).normalize(), "f")
