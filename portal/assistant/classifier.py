"""The assistant's intent classifier: which of a few things a customer's message asks for.

A small linear model over character and word n-grams, trained at first use from the example phrases
in data/examples.tsv (Gulf dialects, Modern Standard Arabic, English and Arabizi). It runs on the CPU,
downloads nothing and takes a fraction of a second to train.
"""
import re
import threading
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path

INTENTS = ("order_status", "menu", "opening_hours", "loyalty_balance", "complaint", "human", "greeting", "other")
DATA = Path(__file__).resolve().parent / "data"
EXAMPLES = DATA / "examples.tsv"

TASHKEEL = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed]")
LETTERS = str.maketrans({
    "\u0640": None,  # tatweel
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
    "ة": "ه", "ى": "ي",
    "ئ": "ي", "ؤ": "و",  # hamza seats people often drop: وظائف and وظايف are one word
    **{chr(0x0660 + digit): str(digit) for digit in range(10)},
    **{chr(0x06f0 + digit): str(digit) for digit in range(10)},
})
REPEATS = re.compile(r"(\D)\1{2,}")
SPACES = re.compile(r"\s+")
# An order number says "my order" whatever its digits; Arabizi's letter-digits (3, 7, 5) come alone.
NUMBER = re.compile(r"\d{3,}")


@dataclass(frozen=True)
class Classification:
    """The intent a message was given, and how sure the model is of it (0 to 1)."""

    intent: str
    confidence: float


def normalize(text):
    """The message as the model reads it: one spelling for the letters, digits and spaces people vary."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = TASHKEEL.sub("", text).translate(LETTERS)
    text = REPEATS.sub(r"\1\1", text)
    return SPACES.sub(" ", text).strip()


def _model_text(text):
    return NUMBER.sub("000", normalize(text))


def load_examples(path=EXAMPLES):
    """The (intent, text) pairs of a tab-separated examples file; lines starting with # are comments."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        intent, separator, text = line.partition("\t")
        if not separator or intent not in INTENTS or not text.strip():
            raise ValueError(f"{path.name}:{number}: expected an intent of {INTENTS}, a tab and a message")
        examples.append((intent, text))
    return examples


def train(examples):
    """A fitted pipeline (text in, intent out) for the given (intent, text) pairs."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.svm import LinearSVC

    features = make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), preprocessor=_model_text, sublinear_tf=True),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), preprocessor=_model_text, sublinear_tf=True,
                        token_pattern=r"(?u)\b\w+\b"),
    )
    # A linear SVM fits in a tenth of the time a logistic regression takes on these n-grams, and as well;
    # sigmoid calibration over five folds turns its scores into probabilities.
    pipeline = make_pipeline(features, CalibratedClassifierCV(LinearSVC(C=1.0), cv=5))
    intents, texts = zip(*examples, strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.fit(list(texts), list(intents))
    return pipeline


_model = None
_model_lock = threading.Lock()


def model():
    """The pipeline trained on the shipped examples: once per process, on first use."""
    global _model
    with _model_lock:
        if _model is None:
            _model = train(load_examples())
    return _model


def classify(text):
    """The intent of one customer message; blank text is "other" with no confidence, without asking the model."""
    if not text or not text.strip():
        return Classification("other", 0.0)
    pipeline = model()
    probabilities = pipeline.predict_proba([text])[0]
    best = probabilities.argmax()
    return Classification(str(pipeline.classes_[best]), float(probabilities[best]))
