"""The intent classifier: accuracy on held-out messages, the text normalization, and real-style spot checks."""
from collections import Counter

import pytest

from portal.assistant.classifier import DATA, EXAMPLES, INTENTS, Classification, classify, load_examples, normalize, train

HELDOUT = DATA / "heldout.tsv"

# Messages in neither file, the way customers type them, a few per dialect and script.
SPOT_CHECKS = [
    ("وينه طلبي صار له ساعة", "order_status"),  # Saudi
    ("ابغى اعرف متى يجيني الاكل", "order_status"),
    ("كم سعر الكبسة الدجاج؟", "menu"),
    ("ابغى اكلم احد من المطعم الحين", "human"),
    ("سلام عليكم يا اخوان", "greeting"),
    ("شنو عندكم حلويات اليوم", "menu"),  # Kuwaiti
    ("ليش طلبي للحين ما وصل؟", "order_status"),
    ("شكثر عندي نقاط الحين", "loyalty_balance"),
    ("ابي اكلم موظف لو سمحت", "human"),
    ("شو عندكم للفطور", "menu"),  # Emirati
    ("الحين فاتحين ولا لا", "opening_hours"),
    ("ابا اتكلم مع حد من الإدارة", "human"),
    ("ما هي أوقات العمل يوم الجمعة؟", "opening_hours"),  # Modern Standard Arabic
    ("أريد استرداد المال، الطعام وصل باردا", "complaint"),
    ("كم عدد النقاط في رصيدي", "loyalty_balance"),
    ("wheres my food its been forever", "order_status"),  # English with typos
    ("do u guys have mandi", "menu"),
    ("the burger was cold n the fries were missing", "complaint"),
    ("pls let me talk to a real human", "human"),
    ("how many points i got", "loyalty_balance"),
    ("wain el talab ya jama3a", "order_status"),  # Arabizi
    ("3ndkom kabsa el youm?", "menu"),
    ("el akl wasal bared w mo zain", "complaint"),
    ("hi ابي اعرف كم نقاطي", "loyalty_balance"),  # mixed
    ("are u open الحين؟", "opening_hours"),
    ("عندكم وظايف شاغرة؟", "other"),
]


@pytest.fixture(scope="module")
def training():
    return load_examples(EXAMPLES)


@pytest.fixture(scope="module")
def heldout():
    return load_examples(HELDOUT)


def test_every_intent_has_enough_examples(training, heldout):
    assert set(dict(training).keys()) <= set(INTENTS)
    train_counts, heldout_counts = Counter(i for i, _ in training), Counter(i for i, _ in heldout)
    assert {intent: train_counts[intent] >= 120 for intent in INTENTS} == dict.fromkeys(INTENTS, True)
    assert {intent: heldout_counts[intent] >= 30 for intent in INTENTS} == dict.fromkeys(INTENTS, True)


def test_no_message_is_repeated_within_or_across_the_files(training, heldout):
    normalized = [normalize(text) for _, text in training + heldout]
    assert [text for text, count in Counter(normalized).items() if count > 1] == []


def test_no_heldout_message_appears_in_training(training, heldout):
    seen = {normalize(text) for _, text in training}
    assert [text for _, text in heldout if normalize(text) in seen] == []


def test_spot_checks_are_in_neither_file(training, heldout):
    seen = {normalize(text) for _, text in training + heldout}
    assert [text for text, _ in SPOT_CHECKS if normalize(text) in seen] == []


def test_heldout_accuracy_is_at_least_90_percent(training, heldout):
    pipeline = train(training)
    predicted = pipeline.predict([text for _, text in heldout])
    right, total = Counter(), Counter()
    for (intent, text), guess in zip(heldout, predicted, strict=True):
        total[intent] += 1
        right[intent] += guess == intent
        if guess != intent:
            print(f"  missed: {intent} -> {guess}: {text}")
    accuracy, n = sum(right.values()) / len(heldout), len(heldout)
    print(f"held-out accuracy: {accuracy:.1%} on {n} messages")
    for intent in INTENTS:
        print(f"  {intent:<16} recall {right[intent] / total[intent]:.1%} ({right[intent]}/{total[intent]})")
    assert accuracy >= 0.90


@pytest.mark.parametrize(("text", "intent"), SPOT_CHECKS, ids=[text for text, _ in SPOT_CHECKS])
def test_real_style_messages_land_on_their_intent(text, intent):
    assert classify(text).intent == intent


@pytest.mark.parametrize("text", ["وين طلبي", "hello", "?", "🍔🍔", "kam se3r el burger", "x" * 2000])
def test_confidence_is_a_probability(text):
    result = classify(text)
    assert isinstance(result, Classification)
    assert result.intent in INTENTS
    assert 0.0 <= result.confidence <= 1.0


@pytest.mark.parametrize("text", ["", "   ", "\n", "\t \r\n"])
def test_blank_text_is_other_with_low_confidence(text, monkeypatch):
    from portal.assistant import classifier

    monkeypatch.setattr(classifier, "model", lambda: pytest.fail("the model was asked about blank text"))
    assert classify(text) == Classification("other", 0.0)


@pytest.mark.parametrize(("text", "expected"), [
    ("طلب ١٠٤٢", "طلب 1042"),  # Arabic-Indic digits
    ("order ۳۴۵", "order 345"),  # Persian (extended Arabic-Indic) digits
    ("أين إلى آخر", "اين الي اخر"),  # alef forms (and alef maksura)
    ("مَتَى يُوصِلُ الطَّلَبُ", "متي يوصل الطلب"),  # tashkeel, and alef maksura
    ("شـــاورمـا", "شاورما"),  # tatweel
    ("وجبة عائلية", "وجبه عايليه"),  # ta marbuta, and hamza on ya
    ("heyyyy", "heyy"),  # repeated letters
    ("هلاااااا", "هلاا"),
    ("  WHERE   is\tmy  ORDER  ", "where is my order"),  # case and spaces
    ("ﻻ", "لا"),  # NFKC: a presentation form
])
def test_normalize(text, expected):
    assert normalize(text) == expected


def test_normalized_spellings_classify_alike():
    assert classify("أين طلبي؟").intent == classify("اين طلبي؟").intent == "order_status"
    assert classify("heyyyyyyy").intent == "greeting"


def test_model_is_trained_once_per_process():
    from portal.assistant import classifier

    assert classifier.model() is classifier.model()
