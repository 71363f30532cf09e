"""Message templates: the variables the portal can fill, Meta's rules for a template, and rendering.

A body names its variables `{{customer_name}}` (Meta's named parameters), from VARIABLES only, so every
template can be filled from what the portal knows about an order or a loyalty member.
"""
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

# What the portal can fill, with the sample each preview uses (by language).
VARIABLES = {
    "customer_name": {"en": "Sara", "ar": "سارة"},
    "order_number": {"en": "1042", "ar": "1042"},
    "eta": {"en": "7:45 PM", "ar": "7:45 م"},
    "restaurant": {"en": "Al Noor Kitchen", "ar": "مطبخ النور"},
    "points": {"en": "120", "ar": "120"},
    "balance": {"en": "860", "ar": "860"},
    "tracking_note": {"en": "The driver is on the way", "ar": "السائق في الطريق"},
    "expiry_date": {"en": "31 Dec 2026", "ar": "31 ديسمبر 2026"},
    "pickup_code": {"en": "A7", "ar": "A7"},
}
LANGUAGES = ("ar", "en")
CATEGORIES = ("UTILITY", "MARKETING", "AUTHENTICATION")
MAX_BODY = 1024  # Meta's limit for a template body
NAME = re.compile(r"^[a-z0-9_]{1,100}$")
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
VARIABLE_NAME = re.compile(r"^[a-z_]+$")


class TemplateError(ValueError):
    """A template that cannot be saved or filled; the message says why."""


@dataclass
class TemplateCheck:
    errors: dict  # field name -> [messages]
    variables: list  # the variables the body uses, in order of first use

    @property
    def ok(self):
        return not self.errors


def variables_in(body):
    """The variable names a body uses, in order of first appearance."""
    seen = []
    for match in PLACEHOLDER.finditer(body or ""):
        if match.group(1) not in seen:
            seen.append(match.group(1))
    return seen


def check_template(name, language, category, body):
    """Meta's rules and ours for a template; returns the errors by field and the variables used."""
    errors = {}

    def refuse(field, message):
        errors.setdefault(field, []).append(message)

    name = (name or "").strip()
    body = body or ""
    if not NAME.match(name):
        refuse("name", _l("Use lowercase letters, digits and _ only (for example order_ready)."))
    if language not in LANGUAGES:
        refuse("language", _l("Choose Arabic or English."))
    if (category or "").upper() not in CATEGORIES:
        refuse("category", _l("Choose utility, marketing or authentication."))
    if not body.strip():
        refuse("body", _l("Write the message."))
    elif len(body) > MAX_BODY:
        refuse("body", _l("At most %(limit)d characters (this has %(count)d).", limit=MAX_BODY, count=len(body)))
    if body.count("{{") != body.count("}}"):
        refuse("body", _l("A variable is not closed: write it as {{customer_name}}."))
    used = variables_in(body)
    for variable in used:
        if not VARIABLE_NAME.match(variable):
            refuse("body", _l("“%(name)s” is not a variable name: use lowercase letters and _ (for example "
                              "{{order_number}}).", name=variable))
        elif variable not in VARIABLES:
            refuse("body", _l("Unknown variable {{%(name)s}}. The portal can fill: %(known)s.", name=variable,
                              known=", ".join(VARIABLES)))
    stripped = body.strip()
    if used and (stripped.startswith("{{") or stripped.endswith("}}")):
        refuse("body", _l("Meta rejects a message that starts or ends with a variable: add words around it."))
    if re.search(r"\}\}\s*\{\{", body):
        refuse("body", _l("Two variables side by side are rejected by Meta: put words between them."))
    return TemplateCheck(errors=errors, variables=[v for v in used if v in VARIABLES])


def render(body, values):
    """The body with each {{variable}} replaced by its value; raises TemplateError naming any missing."""
    missing = [name for name in variables_in(body) if not str(values.get(name) or "").strip()]
    if missing:
        raise TemplateError(_l("No value for %(names)s.", names=", ".join(missing)))
    return PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), body)


def sample_values(language):
    return {name: samples.get(language) or samples["en"] for name, samples in VARIABLES.items()}


def preview(body, language):
    """The body filled with sample values in `language` (unknown variables stay as written)."""
    samples = sample_values(language)
    return PLACEHOLDER.sub(lambda match: samples.get(match.group(1), match.group(0)), body or "")
