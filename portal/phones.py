"""Phone numbers to E.164, the key customers are known by across platforms."""
import phonenumbers

# A str.translate table: Arabic-Indic (٠-٩) and Eastern Arabic-Indic (۰-۹) digits, as customers type them, to 0-9.
WESTERN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def normalize_phone(raw, default_region="SA"):
    """E.164 (+9665…) for a phone as platforms send it (+966 5…, 05…, 9665…, Arabic digits), else None."""
    if raw is None:
        return None
    text = str(raw).translate(WESTERN_DIGITS).strip()
    if not text or text.strip("0") == "":
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    candidates = [text]
    if not text.startswith("+") and not text.startswith("0"):
        candidates.append("+" + digits)  # 9665… written without the plus
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, default_region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None
