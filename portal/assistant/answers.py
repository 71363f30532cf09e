"""What the assistant can say: a fixed set of answer templates (a manager reads them on the Inbox's
Answers page), each filled only from the portal's own rows — never an invented fact.

`answer(company, session, text, intent)` returns an Answer (the template key and the text in the
customer's language). Facts come from the order the customer is proved to own, the menu with its 86s
and hours, the company's opening hours, and the loyalty ledger.
"""
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from rapidfuzz import fuzz
from sqlalchemy import func, select

from ..extensions import db
from ..i18n import STATUS_LABELS, money
from ..menu.availability import shown_states
from ..models import CustomerLoyalty, DeliveryOrder, LoyaltyTransaction, OrderStatus, Product
from ..phones import WESTERN_DIGITS, normalize_phone
from ..settings.hours import Schedule

# Every answer the assistant gives, by key: what the Answers page shows, in both languages.
ANSWERS = {
    "greeting": _l("Hello! I can tell you where your order is, what is on the menu and its prices, our opening "
                   "hours, or your loyalty points. What would you like to know?"),
    "order_status": _l("Order #%(number)s is %(status)s."),
    "order_status_eta": _l("Order #%(number)s is %(status)s. Expected by %(eta)s."),
    "order_ask_identity": _l("To find your order, send its number and the last 4 digits of the phone number "
                             "you ordered with, for example: 1042 4567."),
    "order_not_found": _l("I could not find an order with that number and phone. Check both, or ask for a person."),
    "order_none": _l("I don't see an order from this number yet."),
    "menu_item": _l("%(item)s costs %(price)s and is available now."),
    "menu_item_sold_out": _l("Sorry, %(item)s is sold out right now."),
    "menu_item_unavailable": _l("Sorry, %(item)s is not available at this time."),
    "menu_overview": _l("Some of our favourites: %(items)s. Ask me about any item for its price."),
    "menu_unknown": _l("I couldn't find that on our menu. Some of our favourites: %(items)s."),
    "hours_open": _l("We are open now, until %(until)s."),
    "hours_closed": _l("We are closed now. We open again %(opens)s."),
    "hours_closed_unknown": _l("We are closed now."),
    "hours_always": _l("We are open now."),
    "loyalty_balance": _l("You have %(points)s points."),
    "loyalty_expiring": _l("You have %(points)s points; %(expiring)s of them expire on %(date)s."),
    "loyalty_none": _l("I don't see loyalty points for this number yet. You earn them with every delivered order."),
    "loyalty_ask_identity": _l("To check your points, send the number and the last 4 digits of the phone "
                               "of one of your orders, for example: 1042 4567."),
    "handoff": _l("I'm passing you to our team; someone will answer here shortly."),
    "handoff_closed": _l("I'm passing you to our team. We are closed now, so the answer may come when we open."),
    "not_understood": _l("Sorry, I didn't understand. You can ask where your order is, about the menu, our "
                         "opening hours or your points, or ask for a person."),
    "staff_busy": _l("Our team has your message and will answer here."),
}

ORDER_NUMBER = re.compile(r"#?\b([A-Za-z]{0,4}-?\d[\w-]{2,})\b")
LAST4 = re.compile(r"(?<!\w)(\d{4})(?!\w)")  # four digits standing alone (not the end of "A7042")
FAVOURITES = 4


@dataclass
class Answer:
    key: str
    text: str
    handoff: bool = False
    understood: bool = True
    facts: dict = field(default_factory=dict)


def language_of(text, default="en"):
    """"ar" when the message has Arabic letters, "en" for Latin letters (Arabizi too), else `default`."""
    if re.search(r"[\u0621-\u064a\u0671-\u06d3]", text or ""):  # Arabic letters (not Arabic-Indic digits)
        return "ar"
    if re.search(r"[A-Za-z]", text or ""):
        return "en"
    return default


def say(key, locale, **values):
    """An answer template in `locale`, filled (the lazy string is translated when it is read)."""
    with force_locale(locale):
        template = str(ANSWERS[key])
    return template % values if values else template


def _local(company, moment, locale):
    zone = ZoneInfo(company.timezone)
    local = moment.astimezone(zone)
    today = datetime.now(zone).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return clock
    with force_locale(locale):
        day = gettext("tomorrow") if local.date() == today + timedelta(days=1) else local.strftime("%d/%m")
    return f"{day} {clock}"


# --- Orders ----------------------------------------------------------------------------------------

def find_order(number, last4):
    """The tenant's order with this number whose customer phone ends in `last4`; None otherwise."""
    number = (number or "").strip().lstrip("#")
    if not number or not last4:
        return None
    candidates = db.session.scalars(select(DeliveryOrder).where(
        func.lower(DeliveryOrder.order_number) == number.lower()).order_by(DeliveryOrder.created_at.desc())
        .limit(5)).all()
    return next((order for order in candidates
                 if order.customer_phone and re.sub(r"\D", "", order.customer_phone).endswith(last4)), None)


def latest_order_for(phone):
    if not phone:
        return None
    return db.session.scalar(select(DeliveryOrder).where(DeliveryOrder.customer_phone == phone)
                             .order_by(DeliveryOrder.created_at.desc()).limit(1))


def identity_in(text):
    """(order number, last 4 digits) written in a message, e.g. "1042 4567" or "#A7-88 and 4567"."""
    text = (text or "").translate(WESTERN_DIGITS)
    fours = LAST4.findall(text)
    numbers = [match for match in ORDER_NUMBER.findall(text) if match not in fours[-1:]]
    if not fours or not numbers:
        return None
    return numbers[0], fours[-1]


def _order_answer(company, order, locale):
    with force_locale(locale):
        status = str(STATUS_LABELS[order.status.value]).lower()
    eta = order.expected_at
    if eta is None and order.accepted_at is not None:
        eta = order.accepted_at + timedelta(minutes=order.preparation_minutes or company.preparation_minutes or 15)
    open_now = order.status not in (OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.REJECTED)
    if eta is not None and open_now and eta > datetime.now(timezone.utc) - timedelta(minutes=30):
        return Answer("order_status_eta", say("order_status_eta", locale, number=order.order_number, status=status,
                                              eta=_local(company, eta, locale)), facts={"order_id": str(order.id)})
    return Answer("order_status", say("order_status", locale, number=order.order_number, status=status),
                  facts={"order_id": str(order.id)})


def order_status(company, session, text, locale):
    if session.channel.value == "WHATSAPP":
        order = latest_order_for(session.customer_phone)
        if order is None:
            return Answer("order_none", say("order_none", locale))
        return _order_answer(company, order, locale)
    proof = identity_in(text)
    if proof is not None:
        order = find_order(*proof)
        if order is None:
            return Answer("order_not_found", say("order_not_found", locale))
        session.order_id = order.id
        return _order_answer(company, order, locale)
    if session.order_id is not None:
        order = db.session.get(DeliveryOrder, session.order_id)
        if order is not None:
            return _order_answer(company, order, locale)
    return Answer("order_ask_identity", say("order_ask_identity", locale))


# --- Menu ------------------------------------------------------------------------------------------

def _products():
    return db.session.scalars(select(Product).where(Product.deleted_at.is_(None))
                              .order_by(Product.sort_order, Product.name)).all()


_TASHKEEL = re.compile(r"[\u064b-\u065f\u0670\u0640]")


def _words(text):
    """Comparable words: lowercase, Arabic letters unified (أإآ→ا, ة→ه, ى→ي), diacritics and "ال" dropped."""
    text = _TASHKEEL.sub("", (text or "").casefold())
    text = text.translate(str.maketrans("أإآةى", "اااهي"))
    words = []
    for word in re.findall(r"\w+", text):
        if word.startswith("ال") and len(word) > 4:
            word = word[2:]
        if len(word) >= 3 and not word.isdigit():
            words.append(word)
    return words


def match_product(text, products, cutoff=84):
    """The product a message names (a word of its English or Arabic name, typos allowed), or None."""
    asked = _words(text)
    best, best_score = None, cutoff
    for product in products:
        for name in (product.name, product.name_ar):
            for word in _words(name):
                for candidate in asked:
                    score = fuzz.ratio(candidate, word)
                    if score > best_score:
                        best, best_score = product, score
    return best


def menu(company, session, text, locale):
    products = _products()
    shown = [product for product in products if product.is_available]
    favourites = ", ".join(product.name_ar if locale == "ar" and product.name_ar else product.name
                           for product in shown[:FAVOURITES]) or "—"
    product = match_product(text, products)
    if product is None:
        key = "menu_unknown" if re.search(r"\w{3,}", text or "") and _names_something(text) else "menu_overview"
        return Answer(key, say(key, locale, items=favourites))
    name = product.name_ar if locale == "ar" and product.name_ar else product.name
    state = shown_states(company, [product]).get(product.id)
    kind = state.kind if state is not None else "AVAILABLE"
    if kind == "SOLD_OUT":
        return Answer("menu_item_sold_out", say("menu_item_sold_out", locale, item=name))
    if kind != "AVAILABLE":
        return Answer("menu_item_unavailable", say("menu_item_unavailable", locale, item=name))
    with force_locale(locale):
        price = money(product.price, company.currency)
    return Answer("menu_item", say("menu_item", locale, item=name, price=price),
                  facts={"product_id": str(product.id)})


_GENERIC_MENU_WORDS = {"menu", "منيو", "المنيو", "قائمة", "القائمة", "عندكم", "3ndkom", "shno", "شنو", "ايش", "وش",
                       "what", "have", "you", "do", "u", "the", "price", "prices", "سعر", "اسعار", "الاسعار", "كم"}


def _names_something(text):
    """True when the message has a word beyond the generic menu words (it names something we lack)."""
    words = re.findall(r"\w+", (text or "").casefold())
    return any(len(word) > 2 and word not in _GENERIC_MENU_WORDS for word in words)


# --- Opening hours ---------------------------------------------------------------------------------

def opening_hours(company, session, text, locale):
    schedule = Schedule.of(company)
    now = datetime.now(timezone.utc)
    if not schedule.configured:
        return Answer("hours_always", say("hours_always", locale))
    change = schedule.next_change(now)
    if schedule.is_open(now):
        return Answer("hours_open", say("hours_open", locale, until=_local(company, change, locale) if change else "—"))
    if change is None:
        return Answer("hours_closed_unknown", say("hours_closed_unknown", locale))
    return Answer("hours_closed", say("hours_closed", locale, opens=_local(company, change, locale)))


# --- Loyalty ---------------------------------------------------------------------------------------

def _member_phone(company, session):
    if session.channel.value == "WHATSAPP":
        return session.customer_phone
    if session.order_id is not None:
        order = db.session.get(DeliveryOrder, session.order_id)
        return normalize_phone(order.customer_phone, company.country_code) if order else None
    return None


def loyalty_balance(company, session, text, locale):
    proof = identity_in(text) if session.channel.value != "WHATSAPP" else None
    if proof is not None:
        order = find_order(*proof)
        if order is None:
            return Answer("order_not_found", say("order_not_found", locale))
        session.order_id = order.id
    phone = _member_phone(company, session)
    if phone is None:
        return Answer("loyalty_ask_identity", say("loyalty_ask_identity", locale))
    member = db.session.scalar(select(CustomerLoyalty).where(CustomerLoyalty.customer_phone == phone))
    if member is None:
        return Answer("loyalty_none", say("loyalty_none", locale))
    soon = datetime.now(timezone.utc) + timedelta(days=30)
    expiring, first = db.session.execute(select(func.sum(LoyaltyTransaction.remaining_points),
                                                func.min(LoyaltyTransaction.expires_at)).where(
        LoyaltyTransaction.customer_loyalty_id == member.id, LoyaltyTransaction.remaining_points > 0,
        LoyaltyTransaction.expires_at > func.now(), LoyaltyTransaction.expires_at <= soon)).one()
    if expiring:
        date = first.astimezone(ZoneInfo(company.timezone)).strftime("%d/%m/%Y")
        return Answer("loyalty_expiring", say("loyalty_expiring", locale, points=member.current_points,
                                              expiring=expiring, date=date))
    return Answer("loyalty_balance", say("loyalty_balance", locale, points=member.current_points))


# --- The rest --------------------------------------------------------------------------------------

def greeting(company, session, text, locale):
    return Answer("greeting", say("greeting", locale))


def handoff(company, session, text, locale):
    key = "handoff" if Schedule.of(company).is_open(datetime.now(timezone.utc)) else "handoff_closed"
    return Answer(key, say(key, locale), handoff=True)


def not_understood(company, session, text, locale):
    return Answer("not_understood", say("not_understood", locale), understood=False)


BY_INTENT = {"order_status": order_status, "menu": menu, "opening_hours": opening_hours,
             "loyalty_balance": loyalty_balance, "greeting": greeting, "complaint": handoff, "human": handoff,
             "other": not_understood}


def answer(company, session, text, intent, locale):
    """The answer to a message already classified as `intent`."""
    return BY_INTENT.get(intent, not_understood)(company, session, text, locale)
