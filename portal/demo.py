"""Demo data for `flask seed-demo`: idempotent, deterministic, written through the tenant like the app.

Every row has a stable id derived from a name (uuid5) and is inserted with ON CONFLICT DO NOTHING,
so running the seed twice leaves the same counts.
"""
import os
import random
import uuid
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from .auth.passwords import hash_password
from .crypto import encrypt_secret
from .extensions import db
from .models import (AiChatbotSession, ChatMessage, Company, DeliveryOrder, IntegrationConfig, LoyaltyProgram,
                     LoyaltyTier, MenuMapping, OrderStatus, OrderStatusHistory, Product, User, UserRole,
                     WhatsappConnection, WhatsappNotificationRule, WhatsappTemplate)
from .tenancy import tenant

SAMPLE_COMPANY_ID = uuid.UUID("123e4567-e89b-12d3-a456-426614174000")  # from the seed's sample data
SECOND_COMPANY_ID = uuid.UUID("5b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3")
DEMO_PASSWORD = "password123"
SIMULATOR_PORT = int(os.environ.get("SIMULATOR_PORT", "5001"))  # `flask simulate` serves the platforms there
NAMESPACE = uuid.UUID("0f6a2b4c-8d1e-4f3a-9b5c-6d7e8f9a0b1c")

SAMPLE = {
    "id": SAMPLE_COMPANY_ID, "name": "Sample Restaurant", "name_ar": "مطعم العينة",
    "email": "admin@sample-restaurant.com", "business_type": "restaurant",
    "timezone": "Asia/Riyadh", "currency": "SAR", "country_code": "SA", "phone_prefix": "+9665",
    "users": [
        ("admin@sample-restaurant.com", "Admin", "User", UserRole.COMPANY_ADMIN),
        ("manager@sample-restaurant.com", "Mona", "Manager", UserRole.MANAGER),
        ("staff@sample-restaurant.com", "Sami", "Staff", UserRole.USER),
        ("operator@sample-restaurant.com", "Omar", "Operator", UserRole.SUPER_ADMIN),
    ],
    "orders": 1000,
}
SECOND = {
    "id": SECOND_COMPANY_ID, "name": "Gulf Grill Kuwait", "name_ar": "مشويات الخليج",
    "email": "admin@gulf-grill.com", "business_type": "restaurant",
    "timezone": "Asia/Kuwait", "currency": "KWD", "country_code": "KW", "phone_prefix": "+9655",
    "users": [
        ("admin@gulf-grill.com", "Khalid", "Admin", UserRole.COMPANY_ADMIN),
        ("staff@gulf-grill.com", "Noura", "Staff", UserRole.USER),
    ],
    "orders": 150,
}

MENU = [
    # (category, English, Arabic, price in SAR)
    ("Burgers", "Classic Beef Burger", "برجر لحم كلاسيك", "28.00"),
    ("Burgers", "Double Cheese Burger", "برجر دبل تشيز", "36.00"),
    ("Burgers", "Spicy Chicken Burger", "برجر دجاج حار", "26.00"),
    ("Burgers", "Mushroom Swiss Burger", "برجر مشروم سويس", "34.00"),
    ("Burgers", "Falafel Burger", "برجر فلافل", "19.00"),
    ("Shawarma", "Chicken Shawarma Wrap", "شاورما دجاج", "14.00"),
    ("Shawarma", "Beef Shawarma Wrap", "شاورما لحم", "17.00"),
    ("Shawarma", "Arabic Shawarma Plate", "صحن شاورما عربي", "29.00"),
    ("Shawarma", "Shawarma Fatteh", "فتة شاورما", "27.00"),
    ("Grills", "Mixed Grill Platter", "مشاوي مشكلة", "79.00"),
    ("Grills", "Shish Tawook", "شيش طاووق", "39.00"),
    ("Grills", "Lamb Kofta", "كفتة لحم", "42.00"),
    ("Grills", "Grilled Half Chicken", "نصف دجاج مشوي", "32.00"),
    ("Rice", "Chicken Kabsa", "كبسة دجاج", "35.00"),
    ("Rice", "Lamb Mandi", "مندي لحم", "58.00"),
    ("Rice", "Chicken Biryani", "برياني دجاج", "33.00"),
    ("Rice", "Saffron Rice", "رز بالزعفران", "12.00"),
    ("Salads", "Fattoush", "فتوش", "16.00"),
    ("Salads", "Tabbouleh", "تبولة", "15.00"),
    ("Salads", "Caesar Salad", "سلطة سيزر", "24.00"),
    ("Salads", "Greek Salad", "سلطة يونانية", "22.00"),
    ("Appetizers", "Hummus", "حمص", "12.00"),
    ("Appetizers", "Mutabbal", "متبل", "13.00"),
    ("Appetizers", "Cheese Sambousek (6)", "سمبوسك جبن (٦)", "18.00"),
    ("Appetizers", "Falafel (8)", "فلافل (٨)", "14.00"),
    ("Appetizers", "French Fries", "بطاطس مقلية", "10.00"),
    ("Appetizers", "Loaded Fries", "بطاطس محملة", "19.00"),
    ("Appetizers", "Chicken Wings (8)", "أجنحة دجاج (٨)", "27.00"),
    ("Desserts", "Kunafa", "كنافة", "22.00"),
    ("Desserts", "Umm Ali", "أم علي", "19.00"),
    ("Desserts", "Basbousa", "بسبوسة", "15.00"),
    ("Desserts", "Luqaimat", "لقيمات", "16.00"),
    ("Desserts", "Chocolate Lava Cake", "كيكة الشوكولاتة", "24.00"),
    ("Drinks", "Fresh Orange Juice", "عصير برتقال طازج", "14.00"),
    ("Drinks", "Lemon Mint", "ليمون بالنعناع", "13.00"),
    ("Drinks", "Laban", "لبن", "6.00"),
    ("Drinks", "Arabic Coffee", "قهوة عربية", "9.00"),
    ("Drinks", "Karak Tea", "شاي كرك", "7.00"),
    ("Drinks", "Sparkling Water", "مياه غازية", "5.00"),
    ("Drinks", "Soft Drink", "مشروب غازي", "6.00"),
]
MODIFIERS = [("Extra cheese", "3.00"), ("No onions", "0.00"), ("Spicy", "0.00"), ("Extra garlic sauce", "2.00"),
             ("Large", "5.00"), ("Add fries", "8.00")]
NOTES = ["Please ring the bell", "Extra napkins", "No cutlery", "Call on arrival", "Leave at the door", None,
         None, None, None]
FIRST_NAMES = ["Ahmed", "Fatimah", "Mohammed", "Noura", "Abdullah", "Sara", "Khalid", "Reem", "Faisal", "Layla",
               "Omar", "Hessa", "Yousef", "Maha", "Turki", "Aisha", "محمد", "نورة", "عبدالله", "سارة"]
LAST_NAMES = ["Al-Harbi", "Al-Qahtani", "Al-Otaibi", "Al-Ghamdi", "Al-Zahrani", "Al-Dosari", "Al-Shehri",
              "Al-Mutairi", "العتيبي", "القحطاني"]
# Enough statuses of each kind; the most recent orders are still on the board.
PLATFORM_MIX = [("TALABAT", 0.45), ("CAREEM", 0.35), ("HUNGERSTATION", 0.20)]
KWD_RATE = Decimal("0.082")  # the second company prices in KWD (3 decimals)


def stable_id(*parts):
    return uuid.uuid5(NAMESPACE, "/".join(str(part) for part in parts))


def _insert(model, rows):
    """Insert rows, leaving any that already exist untouched (the seed's idempotency)."""
    if rows:
        db.session.execute(insert(model).values(rows).on_conflict_do_nothing())


def seed_demo(now=None, rng_seed=42):
    """Create (or complete) the demo companies; returns the per-company counts of orders."""
    now = now or datetime.now(timezone.utc)
    counts = {}
    for spec in (SAMPLE, SECOND):
        rng = random.Random(f"{rng_seed}-{spec['id']}")
        with tenant(spec["id"]):
            _seed_company(spec)
            integrations = _seed_integrations(spec)
            products = _seed_products(spec)
            _seed_mappings(spec, products, integrations)
            _seed_menu_extras(spec, products, integrations, now)
            _seed_loyalty(spec)
            _seed_orders(spec, products, integrations, rng, now)
            _seed_whatsapp(spec)  # after the orders' loyalty ledger: the seed's own points send no messages
            _seed_conversations(spec, now)
            db.session.commit()
            counts[spec["name"]] = db.session.scalar(
                select(db.func.count()).select_from(DeliveryOrder))
    return counts


def _seed_company(spec):
    _insert(Company, [{
        "id": spec["id"], "name": spec["name"], "name_ar": spec["name_ar"], "email": spec["email"],
        "business_type": spec["business_type"], "timezone": spec["timezone"], "currency": spec["currency"],
        "country_code": spec["country_code"],
    }])
    existing = set(db.session.scalars(select(User.email)))
    password = None
    rows = []
    for email, first, last, role in spec["users"]:
        if email in existing:
            continue
        password = password or hash_password(DEMO_PASSWORD)  # bcrypt once, only when needed
        rows.append({"id": stable_id("user", email), "email": email, "first_name": first, "last_name": last,
                     "role": role, "password": password, "company_id": spec["id"]})
    _insert(User, rows)


def _seed_integrations(spec):
    company_id = spec["id"]
    credentials = {
        "TALABAT": {"merchant_id": "sample-chain", "store_id": "sample-vendor-1"},
        "CAREEM": {"merchant_id": "brand-1", "store_id": "branch-1"},
        "HUNGERSTATION": {"merchant_id": "hs-chain", "store_id": "hs-vendor-1"},
    }
    platforms = ["TALABAT", "CAREEM"] if company_id == SAMPLE_COMPANY_ID else ["TALABAT"]
    rows = []
    for platform in platforms:
        rows.append({
            "id": stable_id("integration", company_id, platform), "company_id": company_id,
            "platform": platform, "is_enabled": True,
            "api_key": encrypt_secret(company_id, f"demo-{platform.lower()}-key"),
            "api_secret": encrypt_secret(company_id, f"demo-{platform.lower()}-secret"),
            # 64+ bytes: Delivery Hero signs with HS512.
            "webhook_secret": encrypt_secret(company_id, f"demo-{platform.lower()}-webhook-secret-" + "0" * 48),
            "commission_rate": Decimal("18.00") if platform == "TALABAT" else Decimal("15.00"),
            "sync_status": "completed", "base_url": simulator_base_url(platform), **credentials[platform],
        })
    _insert(IntegrationConfig, rows)
    # Rows from an earlier seed keep their base URL; only a missing one points at the simulator.
    for row in rows:
        db.session.execute(update(IntegrationConfig)
                           .where(IntegrationConfig.id == row["id"], IntegrationConfig.base_url.is_(None))
                           .values(base_url=row["base_url"]))
    return {row["platform"]: row["id"] for row in rows}


def simulator_base_url(platform):
    """Where the demo integrations call their platform: the local simulator (`flask simulate`)."""
    return f"http://127.0.0.1:{SIMULATOR_PORT}/{platform.lower()}"


# --------------------------------------------------------------------------- WhatsApp

# The demo number the simulator plays as Meta (`flask simulate` reads these from the connection itself).
WHATSAPP_PHONE_NUMBER_ID = "106540352242922"
WHATSAPP_DISPLAY_PHONE = "+966 11 234 5678"
WHATSAPP_TOKEN = "demo-whatsapp-access-token"
WHATSAPP_APP_SECRET = "demo-whatsapp-app-secret"
WHATSAPP_VERIFY_TOKEN = "demo-whatsapp-verify-token"
# (event, template name, English body, Arabic body): order updates are UTILITY templates, approved.
WHATSAPP_TEMPLATES = [
    ("ORDER_ACCEPTED", "order_accepted",
     "Hi {{customer_name}}, {{restaurant}} accepted order #{{order_number}}. It should be ready by {{eta}}. Thank you!",
     "هلا {{customer_name}}، {{restaurant}} قبل طلبك رقم {{order_number}}، وبيكون جاهز الساعة {{eta}} تقريباً. "
     "شكراً لك!"),
    ("ORDER_READY", "order_ready",
     "Hi {{customer_name}}, your order #{{order_number}} from {{restaurant}} is ready. Thank you!",
     "هلا {{customer_name}}، طلبك رقم {{order_number}} من {{restaurant}} جاهز. بالعافية!"),
    ("ORDER_OUT_FOR_DELIVERY", "order_out_for_delivery",
     "Hi {{customer_name}}, order #{{order_number}} from {{restaurant}} is on its way to you.",
     "هلا {{customer_name}}، طلبك رقم {{order_number}} من {{restaurant}} في الطريق لك الحين."),
    ("ORDER_DELIVERED", "order_delivered",
     "Hi {{customer_name}}, order #{{order_number}} from {{restaurant}} has been delivered. Enjoy your meal!",
     "هلا {{customer_name}}، وصل طلبك رقم {{order_number}} من {{restaurant}}. بالعافية عليك!"),
    ("POINTS_EARNED", "points_earned",
     "Hi {{customer_name}}, you earned {{points}} points at {{restaurant}}. Your balance is now {{balance}} points.",
     "هلا {{customer_name}}، كسبت {{points}} نقطة من {{restaurant}}، ورصيدك الحين {{balance}} نقطة."),
    ("POINTS_EXPIRING", "points_expiring",
     "Hi {{customer_name}}, {{points}} of your points at {{restaurant}} expire on {{expiry_date}}. Use them soon!",
     "هلا {{customer_name}}، {{points}} نقطة من نقاطك في {{restaurant}} تنتهي بتاريخ {{expiry_date}}. استخدمها قبلها!"),
]


def simulator_whatsapp_url():
    """Where the demo's WhatsApp connection sends: the simulator playing the Cloud API (`flask simulate`)."""
    return f"http://127.0.0.1:{SIMULATOR_PORT}/v23.0"


def _seed_whatsapp(spec):
    """The sample company's WhatsApp connection (to the simulator), approved templates in both languages, and a
    rule for each order event and earned points. Rows from an earlier seed are left as they are."""
    if spec["id"] != SAMPLE_COMPANY_ID:
        return
    from .messaging.templates import check_template

    company_id = spec["id"]
    _insert(WhatsappConnection, [{
        "id": stable_id("whatsapp-connection", company_id), "company_id": company_id,
        "phone_number_id": WHATSAPP_PHONE_NUMBER_ID, "display_phone": WHATSAPP_DISPLAY_PHONE,
        "access_token": encrypt_secret(company_id, WHATSAPP_TOKEN),
        "app_secret": encrypt_secret(company_id, WHATSAPP_APP_SECRET),
        "verify_token": encrypt_secret(company_id, WHATSAPP_VERIFY_TOKEN),
        "base_url": simulator_whatsapp_url(), "is_enabled": True,
    }])
    templates, rules = [], []
    for event, name, english, arabic in WHATSAPP_TEMPLATES:
        for language, body in (("en", english), ("ar", arabic)):
            check = check_template(name, language, "UTILITY", body)
            if not check.ok:  # a mistake in the lines above, not in anyone's data
                raise ValueError(f"demo template {name} ({language}): {check.errors}")
            templates.append({"id": stable_id("whatsapp-template", company_id, name, language),
                              "company_id": company_id, "name": name, "language": language, "category": "UTILITY",
                              "body": body, "variables": check.variables, "status": "APPROVED"})
        rules.append({"id": stable_id("whatsapp-rule", company_id, event), "company_id": company_id, "event": event,
                      "template_name": name, "is_enabled": True})
    _insert(WhatsappTemplate, templates)
    _insert(WhatsappNotificationRule, rules)


# Three conversations for the Inbox: a complaint handed to staff, an answered question, a closed greeting.
DEMO_CONVERSATIONS = [
    ("WHATSAPP", "+966551230001", "STAFF", "complaint", [
        ("CUSTOMER", "الاكل وصل بارد 😡 ابي احد يكلمني", "complaint", None),
        ("ASSISTANT", "أحوّلك إلى فريقنا، وسيرد عليك أحدهم هنا قريباً.", "complaint", "handoff")]),
    ("WEB_WIDGET", None, "ASSISTANT", None, [
        ("CUSTOMER", "are you open now?", "opening_hours", None),
        ("ASSISTANT", "We are open now.", "opening_hours", "hours_always")]),
    ("WHATSAPP", "+966551230002", "CLOSED", None, [
        ("CUSTOMER", "السلام عليكم", "greeting", None),
        ("ASSISTANT", "أهلاً! أقدر أقول لك وين طلبك، وش في المنيو وأسعاره، مواعيد الدوام، أو نقاط الولاء. "
                      "وش تحب تعرف؟", "greeting", "greeting")]),
]


def _seed_conversations(spec, now):
    if spec["id"] != SAMPLE_COMPANY_ID:
        return
    sessions, messages = [], []
    for position, (channel, phone, status, reason, lines) in enumerate(DEMO_CONVERSATIONS, start=1):
        session_id = stable_id("conversation", spec["id"], position)
        started = now - timedelta(minutes=40 * position)
        sessions.append({"id": session_id, "company_id": spec["id"], "session_id": f"demo:{position}",
                         "channel": channel, "customer_phone": phone, "status": status, "handoff_reason": reason,
                         "handed_off_at": started + timedelta(minutes=1) if status == "STAFF" else None,
                         "ended_at": started + timedelta(minutes=5) if status == "CLOSED" else None,
                         "is_active": status != "CLOSED", "started_at": started, "messages_count": len(lines),
                         "intent": lines[0][2], "confidence": Decimal("0.9"), "locale": "ar" if phone else "en",
                         "last_message_at": started + timedelta(minutes=len(lines)), "context": {}})
        for number, (sender, content, intent, key) in enumerate(lines):
            messages.append({"id": stable_id("conversation-message", session_id, number), "company_id": spec["id"],
                             "chatbot_session_id": session_id, "sender": sender, "content": content,
                             "intent": intent, "answer_key": key, "created_at": started + timedelta(minutes=number)})
    _insert(AiChatbotSession, sessions)
    _insert(ChatMessage, messages)


def _price(spec, sar_price):
    amount = Decimal(sar_price)
    if spec["currency"] == "KWD":
        return (amount * KWD_RATE).quantize(Decimal("0.001"), ROUND_HALF_UP)
    return amount


def _seed_products(spec):
    menu = MENU if spec["id"] == SAMPLE_COMPANY_ID else MENU[:12]
    rows = []
    for position, (category, name, name_ar, price) in enumerate(menu, start=1):
        rows.append({
            "id": stable_id("product", spec["id"], position), "company_id": spec["id"],
            "local_product_id": f"P{position:03d}", "sku": f"SKU-{position:04d}", "name": name, "name_ar": name_ar,
            "category": category, "price": _price(spec, price), "sort_order": position,
            "is_available": position % 17 != 0,
        })
    _insert(Product, rows)
    return rows


def _seed_mappings(spec, products, integrations):
    rows = []
    for platform, integration_id in integrations.items():
        for product in products:
            rows.append({
                "id": stable_id("mapping", spec["id"], platform, product["local_product_id"]),
                "company_id": spec["id"], "integration_config_id": integration_id, "platform": platform,
                "local_product_id": product["local_product_id"],
                "platform_product_id": f"{platform[:3]}-{product['local_product_id']}",
                "product_name": product["name"], "product_price": product["price"],
                "is_available": product["is_available"], "sync_status": "completed",
            })
    _insert(MenuMapping, rows)


def _seed_loyalty(spec):
    program_id = stable_id("loyalty", spec["id"])
    _insert(LoyaltyProgram, [{
        "id": program_id, "company_id": spec["id"], "name": "Rewards", "program_type": "TIER_BASED",
        "description": "One point per unit spent; redeem from 100 points.",
        "points_per_currency_unit": Decimal("1"), "point_value": Decimal("0.05"),
        "min_redemption_points": 100, "max_redemption_percentage": Decimal("50"), "expiration_days": 365,
    }])
    _insert(LoyaltyTier, [
        {"id": stable_id("tier", spec["id"], name), "company_id": spec["id"], "loyalty_program_id": program_id,
         "name": name, "name_ar": name_ar, "sort_order": order, "min_points": min_points,
         "earn_multiplier": Decimal(multiplier)}
        for order, (name, name_ar, min_points, multiplier) in enumerate(
            [("Bronze", "برونزي", 0, "1.00"), ("Silver", "فضي", 500, "1.25"), ("Gold", "ذهبي", 2000, "1.50")])
    ])
    return program_id


def _pick_platform(rng, integrations):
    choices = [(platform, weight) for platform, weight in PLATFORM_MIX if platform in integrations]
    return rng.choices([platform for platform, _ in choices], [weight for _, weight in choices])[0]


def _status_for_age(rng, age):
    if age < timedelta(minutes=8):
        return OrderStatus.PENDING
    if age < timedelta(minutes=25):
        return rng.choice([OrderStatus.ACCEPTED, OrderStatus.IN_PREPARATION])
    if age < timedelta(minutes=40):
        return rng.choice([OrderStatus.READY_FOR_PICKUP, OrderStatus.OUT_FOR_DELIVERY])
    return rng.choices([OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.REJECTED], [90, 6, 4])[0]


def _order_items(spec, rng, products):
    items = []
    for product in rng.sample(products, rng.randint(1, 4)):
        quantity = rng.choice([1, 1, 1, 2, 2, 3])
        modifiers = []
        if rng.random() < 0.35:
            name, price = rng.choice(MODIFIERS)
            modifiers.append({"name": name, "price": str(_price(spec, price)), "quantity": 1})
        unit = product["price"] + sum(Decimal(modifier["price"]) for modifier in modifiers)
        items.append({
            "platform_product_id": product["local_product_id"], "name": product["name"],
            "name_ar": product["name_ar"], "quantity": quantity, "unit_price": str(product["price"]),
            "modifiers": modifiers, "line_total": str(unit * quantity),
            "notes": rng.choice([None, None, None, "No pickles", "Well done", "Sauce on the side"]),
        })
    return items


def _seed_orders(spec, products, integrations, rng, now):
    company_id = spec["id"]
    rates = {"TALABAT": Decimal("18.00"), "CAREEM": Decimal("15.00")}
    exponent = Decimal("0.001") if spec["currency"] == "KWD" else Decimal("0.01")
    orders, history = [], []
    for number in range(1, spec["orders"] + 1):
        platform = _pick_platform(rng, integrations)
        # Most orders spread over 60 days; the newest few are minutes old so the board has work.
        if number > spec["orders"] - 12:
            age = timedelta(minutes=rng.randint(1, 45))
        else:
            age = timedelta(days=rng.uniform(0, 60), minutes=rng.randint(0, 59))
        created = now - age
        status = _status_for_age(rng, age)
        items = _order_items(spec, rng, products)
        subtotal = sum(Decimal(item["line_total"]) for item in items)
        discount = (subtotal * Decimal("0.10")).quantize(exponent) if rng.random() < 0.2 else Decimal(0)
        delivery_fee = _price(spec, "7.00") if rng.random() < 0.85 else Decimal(0)
        tax = ((subtotal - discount) * Decimal("0.15")).quantize(exponent) if spec["currency"] == "SAR" else Decimal(0)
        total = subtotal - discount + delivery_fee + tax
        rate = rates.get(platform, Decimal("15.00"))
        order_id = stable_id("order", company_id, number)
        customer = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        phone = _regular_phone(spec, rng.randint(0, 99999999))
        timestamps = _lifecycle(status, created, rng)
        orders.append({
            "id": order_id, "company_id": company_id, "integration_config_id": integrations[platform],
            "platform": platform, "platform_order_id": f"{platform[:3]}-{company_id.hex[:6]}-{number:06d}",
            "order_number": f"{platform[0]}{number:05d}", "status": status,
            "order_type": "PICKUP" if rng.random() < 0.1 else "DELIVERY",
            "subtotal": subtotal, "discount_amount": discount, "delivery_fee": delivery_fee, "tax_amount": tax,
            "total_amount": total, "currency": spec["currency"], "commission_rate": rate,
            "commission_amount": (total * rate / 100).quantize(exponent),
            "payment_method": rng.choice(["CARD", "CARD", "CASH", "APPLE_PAY"]),
            "customer_name": customer, "customer_phone": phone,
            "delivery_address": f"Building {rng.randint(1, 300)}, Street {rng.randint(1, 90)}",
            "delivery_notes": rng.choice(NOTES), "order_items": items,
            "platform_data": {"demo": True, "source": "seed-demo"},
            "created_at": created, "updated_at": created, **timestamps,
        })
        previous = None
        for step, (to_status, at) in enumerate(_history_steps(status, created, timestamps)):
            history.append({"id": stable_id("history", order_id, step), "company_id": company_id,
                            "order_id": order_id, "from_status": previous, "to_status": to_status,
                            "source": "PLATFORM" if step == 0 else "USER", "created_at": at})
            previous = to_status
    for start in range(0, len(orders), 500):
        _insert(DeliveryOrder, orders[start:start + 500])
    for start in range(0, len(history), 1000):
        _insert(OrderStatusHistory, history[start:start + 1000])
    _seed_customers(spec, orders)


def _lifecycle(status, created, rng):
    minutes = lambda low, high: timedelta(minutes=rng.randint(low, high))  # noqa: E731
    stamps = dict.fromkeys(("accepted_at", "rejected_at", "ready_at", "picked_up_at", "completed_at",
                            "cancelled_at"))
    if status == OrderStatus.REJECTED:
        stamps["rejected_at"] = created + minutes(1, 4)
        return stamps
    if status == OrderStatus.PENDING:
        return stamps
    stamps["accepted_at"] = created + minutes(1, 4)
    if status in (OrderStatus.READY_FOR_PICKUP, OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELIVERED):
        stamps["ready_at"] = stamps["accepted_at"] + minutes(8, 25)
    if status in (OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELIVERED):
        stamps["picked_up_at"] = stamps["ready_at"] + minutes(2, 10)
    if status == OrderStatus.DELIVERED:
        stamps["completed_at"] = stamps["picked_up_at"] + minutes(10, 35)
    if status == OrderStatus.CANCELLED:
        stamps["cancelled_at"] = stamps["accepted_at"] + minutes(2, 15)
    return stamps


def _history_steps(status, created, stamps):
    steps = [(OrderStatus.PENDING, created)]
    if stamps["rejected_at"]:
        return steps + [(OrderStatus.REJECTED, stamps["rejected_at"])]
    if stamps["accepted_at"]:
        steps.append((OrderStatus.ACCEPTED, stamps["accepted_at"]))
    if status == OrderStatus.IN_PREPARATION:
        steps.append((OrderStatus.IN_PREPARATION, stamps["accepted_at"]))
    for key, step_status in (("ready_at", OrderStatus.READY_FOR_PICKUP), ("picked_up_at", OrderStatus.OUT_FOR_DELIVERY),
                             ("completed_at", OrderStatus.DELIVERED), ("cancelled_at", OrderStatus.CANCELLED)):
        if stamps[key]:
            steps.append((step_status, stamps[key]))
    return steps


def _regular_phone(spec, draw):
    """One of 120 regular customers' mobile numbers: they order again and again, on every platform."""
    digits = 8 if spec["country_code"] == "SA" else 7  # +966 5xxxxxxxx, +965 5xxxxxxx
    return f"{spec['phone_prefix']}{(draw % 120) * 524287 % 10 ** digits:0{digits}d}"


def _seed_customers(spec, orders):
    """Loyalty members and their ledger, earned through the loyalty service (portal/loyalty/demo.py)."""
    from .loyalty.demo import seed_ledger
    seed_ledger(spec["id"])


# --------------------------------------------------------------------------- menu

BREAKFAST = [("Foul Medames", "فول مدمس", "12.00"), ("Shakshuka", "شكشوكة", "18.00"),
             ("Cheese Manakish", "مناقيش جبنة", "10.00")]
BREAKFAST_HOURS = {"rules": [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "06:00", "end": "11:00"}]}
MODIFIER_GROUPS = [
    # (product position, group, Arabic, min, max, [(option, Arabic, price delta in SAR)])
    (1, "Extras", "إضافات", 0, 3, [("Extra cheese", "جبنة إضافية", "3.00"), ("Add fries", "مع بطاطس", "8.00"),
                                   ("Jalapeños", "هالبينو", "2.00")]),
    (1, "Doneness", "درجة الطهي", 1, 1, [("Medium", "متوسط", "0"), ("Well done", "مستوي جيداً", "0")]),
    (6, "Sauce", "الصوص", 1, 1, [("Garlic", "ثوم", "0"), ("Tahini", "طحينة", "0"), ("Spicy", "حار", "1.00")]),
]
# Careem items seen in orders that no mapping names (the mapping page suggests a product for each).
UNMAPPED_SEEN = [("CAR-9001", "Chicken Shawerma Box", "19.00"), ("CAR-9002", "Kunafa with Cream", "24.00")]


def _seed_menu_extras(spec, products, integrations, now):
    """Modifier groups, breakfast items with hours (Talabat only), and orders naming unmapped Careem items."""
    if spec["id"] != SAMPLE_COMPANY_ID:
        return
    from .models import ModifierGroup, ModifierOption
    groups, options = [], []
    for position, name, name_ar, minimum, maximum, choices in MODIFIER_GROUPS:
        group_id = stable_id("modifier-group", spec["id"], position, name)
        groups.append({"id": group_id, "company_id": spec["id"],
                       "product_id": stable_id("product", spec["id"], position),
                       "name": name, "name_ar": name_ar, "min_choices": minimum, "max_choices": maximum,
                       "sort_order": len(groups) + 1})
        for order, (option, option_ar, delta) in enumerate(choices, start=1):
            options.append({"id": stable_id("modifier-option", group_id, option), "company_id": spec["id"],
                            "group_id": group_id, "name": option, "name_ar": option_ar,
                            "price_delta": _price(spec, delta), "sort_order": order})
    _insert(ModifierGroup, groups)
    _insert(ModifierOption, options)

    start = len(MENU) + 1
    breakfast = [{"id": stable_id("product", spec["id"], position), "company_id": spec["id"],
                  "local_product_id": f"P{position:03d}", "sku": f"SKU-{position:04d}", "name": name,
                  "name_ar": name_ar, "category": "Breakfast", "price": _price(spec, price), "sort_order": position}
                 for position, (name, name_ar, price) in enumerate(BREAKFAST, start=start)]
    _insert(Product, breakfast)
    if "TALABAT" in integrations:
        _insert(MenuMapping, [{
            "id": stable_id("mapping", spec["id"], "TALABAT", product["local_product_id"]), "company_id": spec["id"],
            "integration_config_id": integrations["TALABAT"], "platform": "TALABAT",
            "local_product_id": product["local_product_id"],
            "platform_product_id": f"TAL-{product['local_product_id']}",
            "product_name": product["name"], "product_price": product["price"],
            "availability_schedule": BREAKFAST_HOURS,
        } for product in breakfast])
    if "CAREEM" not in integrations:
        return
    orders = []
    for number, (platform_id, name, price) in enumerate(UNMAPPED_SEEN, start=1):
        created = now - timedelta(days=number, hours=3)
        amount = _price(spec, price)
        orders.append({
            "id": stable_id("order-unmapped", spec["id"], number), "company_id": spec["id"],
            "integration_config_id": integrations["CAREEM"], "platform": "CAREEM",
            "platform_order_id": f"CAR-{spec['id'].hex[:6]}-U{number:05d}", "order_number": f"CU{number:04d}",
            "status": OrderStatus.DELIVERED, "subtotal": amount, "total_amount": amount, "currency": spec["currency"],
            "customer_name": "Demo Customer", "order_items": [
                {"platform_product_id": platform_id, "local_product_id": None, "name": name, "quantity": 1,
                 "unit_price": str(amount), "line_total": str(amount), "modifiers": []}],
            "platform_data": {"demo": True, "source": "seed-demo"}, "created_at": created, "updated_at": created,
            "accepted_at": created, "completed_at": created + timedelta(minutes=40),
        })
    _insert(DeliveryOrder, orders)
