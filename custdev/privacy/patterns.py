"""Contact details and identity numbers found by their shape: e-mails, URLs and bare domains, @handles, phone
numbers (Russian, Ukrainian, UK, US and EU formats), ИНН, СНИЛС, Russian passport numbers, payment card numbers
and street addresses (Russian and English). Pure functions over text; no names here (see names.py)."""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Top-level domains a bare domain may end with (a bare "word.word" is too often a file name or a sentence end).
_TLD = (
    "ru|рф|su|ua|by|kz|com|net|org|io|co|uk|us|eu|de|fr|it|es|nl|pl|cz|se|no|fi|dk|ch|at|be|ie|pt|ca|au|info|biz|"
    "me|app|dev|ai|site|online|store|shop|tech|pro|moscow|spb|am|ge|uz|lt|lv|ee|il|in|tv|cc|xyz"
)
URL = re.compile(
    r"(?:(?:https?|ftp)://|www\.)[^\s<>\"'«»)\]]+"  # with a scheme or www.
    rf"|(?<![\w@.-])(?:[\w-]+\.)+(?:{_TLD})(?![\w-])(?:/[^\s<>\"'«»)\]]*)?",  # sladkiy-kot.ru, vk.com/sorlova
    re.IGNORECASE,
)
HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z0-9_][A-Za-z0-9_.]{1,}[A-Za-z0-9_]")

_SEP = r"[\s.\-\u2010-\u2012\u2013]?"
PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}" + _SEP + r"\(?\d{1,4}\)?(?:" + _SEP + r"\d{2,4}){2,4}"  # +7 (912) 345-67-89, +44 20 7946 0958, +33 1 23 45 67 89
    r"|(?:8|7)" + _SEP + r"\(?\d{3}\)?" + _SEP + r"\d{3}" + _SEP + r"\d{2}" + _SEP + r"\d{2}"  # 8 912 345 67 89
    r"|\(\d{3,5}\)" + _SEP + r"\d{2,4}(?:" + _SEP + r"\d{2,4}){1,2}"  # (415) 555-0100, (4822) 12-34-56
    r"|\d{3}" + _SEP + r"\d{3}" + _SEP + r"\d{2}" + _SEP + r"\d{2}"  # 912 345 67 89, 912-345-67-89
    r"|\d{3}" + _SEP + r"\d{3}" + _SEP + r"\d{4}"  # 415 555 0100, 415-555-0100
    r"|0\d{2,4}" + _SEP + r"\d{3,4}" + _SEP + r"\d{3,4}"  # 020 7946 0958, 01632 960 123, 044 123 4567
    r"|\d{10,11}"  # 9123456789, 89123456789
    r")(?![\w])"
)
INN_CONTEXT = re.compile(r"(?i)\bИНН\b\s*:?\s*(\d{10}|\d{12})\b")
SNILS = re.compile(r"(?<!\d)\d{3}[- ]\d{3}[- ]\d{3}[- ]\d{2}(?!\d)")
PASSPORT = re.compile(r"(?i)(?:паспорт\w*(?:\s+(?:серия|серии|номер|№|no\.?))*\s*:?\s*)?(?<!\d)\d{2}\s?\d{2}\s?(?:№\s?)?\d{6}(?!\d)")
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_RU_STREET = (
    r"ул\.|улиц[аеуыи]|пр-т|просп\.|проспект[аеу]?|пер\.|переул(?:ок|ке|ка)|ш\.|шоссе|б-р|бульвар[аеу]?|наб\.|"
    r"набережн(?:ая|ой|ую)|пл\.|площад(?:ь|и)|мкр\.|микрорайон[аеу]?|проезд[аеу]?|тупик[аеу]?|аллея|аллее"
)
ADDRESS_RU = re.compile(
    rf"(?i)(?<!\w)(?:{_RU_STREET})\s*[\w.\- ]{{0,40}}?,?\s*(?:д\.|дом[аеу]?)\s*\d+[\w/]*"
    r"(?:\s*,?\s*(?:к\.|корп\.|корпус|стр\.|строение)\s*\d+\w*)?(?:\s*,?\s*(?:кв\.|квартира|квартире|оф\.|офис[аеу]?)\s*\d+\w*)?"
    rf"|(?<!\w)(?:{_RU_STREET})\s+[А-ЯЁ][\w\-]+(?:\s+[А-ЯЁ][\w\-]+)?,?\s*\d+[\w/]*"
)
ADDRESS_EN = re.compile(
    r"\b\d{1,5}\s+(?:[A-Z][\w'-]+\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Boulevard|Blvd|Drive|Dr|Way|Court|Ct|"
    r"Place|Pl|Square|Sq|Terrace|Close|Crescent|Gardens|Parkway|Pkwy|Highway|Hwy)\b\.?(?:,?\s*(?:Apt|Suite|Unit|Flat)\.?\s*\w+)?"
    r"|\b[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\b"  # UK postcodes
)

PLACEHOLDERS = {
    "email": "[email]", "url": "[url]", "handle": "[handle]", "phone": "[phone]", "inn": "[ИНН]", "snils": "[СНИЛС]",
    "passport": "[passport]", "card": "[card]", "address": "[address]",
}


def luhn(digits: str) -> bool:
    total = 0
    for n, ch in enumerate(reversed(digits)):
        d = int(ch)
        if n % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def inn_valid(digits: str) -> bool:
    """The check digits of a Russian ИНН (10 digits: organisation, 12: person)."""
    d = [int(c) for c in digits]

    def check(weights: list[int]) -> int:
        return sum(w * x for w, x in zip(weights, d)) % 11 % 10

    if len(d) == 10:
        return check([2, 4, 10, 3, 5, 9, 4, 6, 8]) == d[9]
    if len(d) == 12:
        return check([7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == d[10] and check([3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == d[11]
    return False


_DIGIT = re.compile(r"\d")


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdigit())


def find_patterns(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of every contact detail or identity number in ``text``, without overlaps."""
    spans: list[tuple[int, int, str]] = []

    def add(s: int, e: int, kind: str) -> None:
        if all(e <= a or s >= b for a, b, _ in spans):
            spans.append((s, e, kind))

    # Cheap guards first (most texts have no digit, '@' or '.'); the order of the patterns is kept (the first wins).
    at, dot, digit = "@" in text, "." in text or "://" in text, _DIGIT.search(text) is not None
    if at:
        for m in EMAIL.finditer(text):
            add(m.start(), m.end(), "email")
    if dot:
        for m in URL.finditer(text):
            add(m.start(), m.end(), "url")
    if at:
        for m in HANDLE.finditer(text):
            add(m.start(), m.end(), "handle")
    if not digit:  # every pattern below needs one
        return sorted(spans)
    for m in ADDRESS_RU.finditer(text):
        add(m.start(), m.end(), "address")
    for m in ADDRESS_EN.finditer(text):
        add(m.start(), m.end(), "address")
    for m in INN_CONTEXT.finditer(text):
        add(m.start(1), m.end(1), "inn")
    for m in re.finditer(r"(?<!\d)(\d{12}|\d{10})(?!\d)", text):
        if inn_valid(m.group(1)):
            add(m.start(), m.end(), "inn")
    for m in SNILS.finditer(text):
        add(m.start(), m.end(), "snils")
    for m in CARD.finditer(text):
        digits = _digits(m.group())
        if 13 <= len(digits) <= 19 and luhn(digits):
            add(m.start(), m.end(), "card")
    for m in PASSPORT.finditer(text):
        if m.group().lower().startswith("паспорт") or re.fullmatch(r"\d{2}\s\d{2}\s\d{6}|\d{4}\s\d{6}", m.group()):
            add(m.start(), m.end(), "passport")
    for m in PHONE.finditer(text):
        if 9 <= len(_digits(m.group())) <= 15:
            add(m.start(), m.end(), "phone")
    return sorted(spans)
