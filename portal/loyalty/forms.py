"""Forms of the loyalty pages: the program, its tiers, customers, and the order panel."""
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.widgets import TextInput
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..phones import WESTERN_DIGITS

PROGRAM_TYPES = [
    ("POINTS_BASED", _l("Points: everyone earns at the same rate")),
    ("TIER_BASED", _l("Tiers: higher tiers earn more points")),
    ("CASHBACK", _l("Cashback: a share of every order back as credit")),
    ("HYBRID", _l("Hybrid: cashback, and higher tiers earn a bigger share")),
]
PROGRAM_TYPE_LABELS = {"POINTS_BASED": _l("Points"), "TIER_BASED": _l("Tiers"), "CASHBACK": _l("Cashback"),
                       "HYBRID": _l("Hybrid")}


def _western_digits(valuelist):
    """Arabic-Indic digits (and the Arabic decimal separator) read as 0-9 and '.'."""
    return [value.translate(WESTERN_DIGITS).replace("٫", ".").replace("،", ",").strip()
            if isinstance(value, str) else value for value in valuelist or []]


class NumberField(DecimalField):
    """A decimal typed in any digits; a clear message when it is not a number."""

    widget = TextInput()  # type=number refuses Arabic-Indic digits and the Arabic decimal separator

    def process_formdata(self, valuelist):
        valuelist = _western_digits(valuelist)
        if valuelist and valuelist[0] != "":
            try:
                self.data = Decimal(valuelist[0].replace(",", ""))
            except (InvalidOperation, ValueError):
                self.data = None
                raise ValueError(self.gettext("Enter a number, e.g. 1.5.")) from None
        else:
            self.data = None


class WholeNumberField(IntegerField):
    """A whole number typed in any digits."""

    widget = TextInput()

    def process_formdata(self, valuelist):
        valuelist = _western_digits(valuelist)
        if valuelist and valuelist[0] != "":
            try:
                self.data = int(valuelist[0].replace(",", ""))
            except ValueError:
                self.data = None
                raise ValueError(self.gettext("Enter a whole number, e.g. 100.")) from None
        else:
            self.data = None


def places(count):
    """At most `count` decimal places (what the column holds)."""
    def check(form, field):
        if field.data is not None and field.data.as_tuple().exponent < -count:
            raise ValidationError(_l("Use at most %(count)s decimal places.", count=count))
    return check


def number_attrs(**extra):
    return {"inputmode": "decimal", "dir": "ltr", "autocomplete": "off", **extra}


class ProgramForm(FlaskForm):
    """A loyalty program's rules, each within a range that makes sense."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)],
                       description=_l("What customers see, e.g. “Kabsa Rewards”."))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=1000)])
    program_type = SelectField(_l("Type"), choices=PROGRAM_TYPES, default="POINTS_BASED")
    points_per_currency_unit = NumberField(
        _l("Points per currency unit"), default=Decimal("1"),
        validators=[InputRequired(_l("Enter the points earned per unit spent (0 to earn nothing).")),
                    NumberRange(min=0, max=1000), places(4)], render_kw=number_attrs(),
        description=_l("Points for every 1 unit of your currency spent on a delivered order (0 to 1,000)."))
    point_value = NumberField(
        _l("Value of one point"), default=Decimal("0.05"),
        validators=[InputRequired(), NumberRange(min=Decimal("0.0001"), max=1000), places(4)],
        render_kw=number_attrs(), description=_l("In your currency: what one point pays for when redeemed."))
    min_redemption_points = WholeNumberField(
        _l("Minimum points to redeem"), default=100,
        validators=[Optional(), NumberRange(min=0, max=1_000_000)], render_kw=number_attrs(inputmode="numeric"),
        description=_l("A customer needs at least this many points to use them (0 to 1,000,000)."))
    max_redemption_percentage = NumberField(
        _l("Most of an order payable with points (%)"), default=Decimal("50"),
        validators=[InputRequired(_l("Enter a share between 1 and 100 %.")), NumberRange(min=1, max=100), places(2)],
        render_kw=number_attrs())
    expiration_days = WholeNumberField(
        _l("Points expire after (days)"), validators=[Optional(), NumberRange(min=1, max=3650)],
        render_kw=number_attrs(inputmode="numeric"),
        description=_l("Empty: points never expire. 1 to 3,650 days; the oldest points expire first."))
    tier_bonus_multiplier = NumberField(
        _l("Tier bonus multiplier"), default=Decimal("1"),
        validators=[InputRequired(), NumberRange(min=0, max=5), places(2)], render_kw=number_attrs(),
        description=_l("Scales every tier's bonus: 2 turns Gold's 1.5× into 2× (0 to 5). Tier and hybrid programs."))
    referral_bonus = WholeNumberField(
        _l("Referral bonus (points)"), default=0, validators=[Optional(), NumberRange(min=0, max=100_000)],
        render_kw=number_attrs(inputmode="numeric"),
        description=_l("For a member who refers a new customer, paid on the new customer's first delivered order."))
    activate = BooleanField(_l("Active: customers earn and redeem with this program"), default=True)

    def values(self):
        """The rules as the service takes them."""
        data = {name: getattr(self, name).data for name in (
            "name", "description", "program_type", "points_per_currency_unit", "point_value", "min_redemption_points",
            "max_redemption_percentage", "expiration_days", "tier_bonus_multiplier", "referral_bonus")}
        data["min_redemption_points"] = data["min_redemption_points"] or 0
        data["referral_bonus"] = data["referral_bonus"] or 0
        return data


class TierForm(FlaskForm):
    """A tier: what it takes to reach it, what it earns, and its perks in both languages."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    name_ar = StringField(_l("Name in Arabic"), validators=[Optional(), Length(max=100)],
                          render_kw={"dir": "rtl", "lang": "ar"})
    min_points = WholeNumberField(_l("Points earned to reach it"), default=0,
                                  validators=[Optional(), NumberRange(min=0, max=10_000_000)],
                                  render_kw=number_attrs(inputmode="numeric"))
    min_spend = NumberField(_l("Spend to reach it"), default=Decimal("0"),
                            validators=[Optional(), NumberRange(min=0, max=10_000_000), places(3)],
                            render_kw=number_attrs())
    window_days = WholeNumberField(_l("Counted over the last (days)"),
                                   validators=[Optional(), NumberRange(min=1, max=3650)],
                                   render_kw=number_attrs(inputmode="numeric"),
                                   description=_l("Empty: since the customer joined. With a window, customers "
                                                  "also move down when they order less."))
    earn_multiplier = NumberField(_l("Earns (× points)"), default=Decimal("1"),
                                  validators=[InputRequired(), NumberRange(min=Decimal("0.1"), max=10), places(2)],
                                  render_kw=number_attrs(), description=_l("1 is the base rate; 1.5 earns half again."))
    perks = TextAreaField(_l("Perks"), validators=[Optional(), Length(max=500)],
                          description=_l("E.g. free delivery on Fridays."))
    perks_ar = TextAreaField(_l("Perks in Arabic"), validators=[Optional(), Length(max=500)],
                             render_kw={"dir": "rtl", "lang": "ar"})

    def values(self):
        return {"name": self.name.data, "name_ar": self.name_ar.data, "min_points": self.min_points.data or 0,
                "min_spend": self.min_spend.data or Decimal(0), "window_days": self.window_days.data,
                "earn_multiplier": self.earn_multiplier.data, "perks": self.perks.data, "perks_ar": self.perks_ar.data}


class RedeemForm(FlaskForm):
    """Staff redeem a member's points on an order."""

    member_id = HiddenField()
    points = WholeNumberField(_l("Points to redeem"), validators=[DataRequired(_l("Enter the points to redeem."))],
                              render_kw=number_attrs(inputmode="numeric"))


class AdjustForm(FlaskForm):
    """A manager adds or removes points, saying why."""

    points = WholeNumberField(_l("Points"), validators=[DataRequired(_l("Enter the points to add (e.g. 50) or "
                                                                        "remove (e.g. -20)."))],
                              render_kw=number_attrs(inputmode="text"),
                              description=_l("Positive to add, negative to remove."))
    reason = StringField(_l("Reason"), validators=[DataRequired(_l("Say why: the customer may ask.")),
                                                   Length(min=3, max=500)],
                         description=_l("Kept in the customer's history and the audit log."))


class RefundForm(FlaskForm):
    """A manager takes back an order's points after a refund."""

    reason = StringField(_l("Why"), validators=[DataRequired(_l("Say why, in a few words.")), Length(min=3, max=300)])


class MemberForm(FlaskForm):
    """A manager adds a customer before their first order (e.g. to record a referral)."""

    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=40)],
                        render_kw={"dir": "ltr", "inputmode": "tel", "autocomplete": "off"},
                        description=_l("Any format: +966 5…, 05…, 9665…"))
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    referred_by = StringField(_l("Referred by (phone of a member)"), validators=[Optional(), Length(max=40)],
                              render_kw={"dir": "ltr", "inputmode": "tel", "autocomplete": "off"})


class ReferrerForm(FlaskForm):
    """Record who referred a member who has not ordered yet."""

    referred_by = StringField(_l("Referred by (phone of a member)"), validators=[DataRequired(), Length(max=40)],
                              render_kw={"dir": "ltr", "inputmode": "tel", "autocomplete": "off"})
