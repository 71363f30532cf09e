"""Templates: Meta's rules, rendering with the portal's variables, previews in both directions."""
import pytest
from hypothesis import given, strategies as st

from portal.messaging.templates import (MAX_BODY, VARIABLES, TemplateError, check_template, preview, render,
                                        variables_in)

ARABIC = "أهلاً {{customer_name}}، طلبك رقم {{order_number}} جاهز للاستلام من {{restaurant}}. شكراً!"


def test_an_arabic_template_is_accepted_and_filled():
    check = check_template("order_ready", "ar", "utility", ARABIC)  # Meta compares categories without case
    assert check.ok and check.variables == ["customer_name", "order_number", "restaurant"]
    text = render(ARABIC, {"customer_name": "نورة", "order_number": "1042", "restaurant": "مطبخ النور"})
    assert text == "أهلاً نورة، طلبك رقم 1042 جاهز للاستلام من مطبخ النور. شكراً!"
    assert preview(ARABIC, "ar").startswith("أهلاً سارة، طلبك رقم 1042")
    assert "Sara" in preview(ARABIC, "en")


@pytest.mark.parametrize("name, language, category, body, field, words", [
    ("Order Ready", "ar", "UTILITY", "Hi {{customer_name}}!", "name", "lowercase"),
    ("order_ready", "fr", "UTILITY", "Hi {{customer_name}}!", "language", "Arabic or English"),
    ("order_ready", "ar", "PROMO", "Hi {{customer_name}}!", "category", "utility"),
    ("order_ready", "ar", "UTILITY", "   ", "body", "Write the message"),
    ("order_ready", "ar", "UTILITY", "x" * (MAX_BODY + 1), "body", "At most 1024"),
    ("order_ready", "ar", "UTILITY", "Hi {{nickname}}, thanks", "body", "Unknown variable {{nickname}}"),
    ("order_ready", "ar", "UTILITY", "Hi {{Customer Name}}, thanks", "body", "is not a variable name"),
    ("order_ready", "ar", "UTILITY", "Hi {{customer_name}, thanks", "body", "not closed"),
    ("order_ready", "ar", "UTILITY", "{{customer_name}}, your order is ready", "body", "starts or ends"),
    ("order_ready", "ar", "UTILITY", "Order #{{order_number}}", "body", "starts or ends"),
    ("order_ready", "ar", "UTILITY", "Hi {{customer_name}} {{order_number}} is ready", "body", "side by side"),
])
def test_what_meta_would_refuse_is_said_on_its_field(name, language, category, body, field, words):
    check = check_template(name, language, category, body)
    assert not check.ok
    assert any(words in str(message) for message in check.errors[field]), check.errors


def test_a_missing_value_is_named_and_nothing_is_rendered():
    with pytest.raises(TemplateError, match="eta"):
        render("Ready by {{eta}}, {{customer_name}}.", {"customer_name": "Sara", "eta": "  "})


@given(values=st.fixed_dictionaries({name: st.text(min_size=1, max_size=30).filter(str.strip)
                                     for name in VARIABLES}))
def test_rendering_replaces_every_variable_and_nothing_else(values):
    body = "Hi " + " and ".join("{{" + name + "}}" for name in VARIABLES) + " — thanks"
    assert render(body, values) == "Hi " + " and ".join(values[name] for name in VARIABLES) + " — thanks"
    assert variables_in(body) == list(VARIABLES)
