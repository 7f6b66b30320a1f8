"""Money in pounds as councils write it: '£216k', '£2 million', '£51.845m', '£39,079', '£8-10m',
'a quarter of a million pounds'. Amounts stay exact (Decimal), never floats.

Belongs here: finding amounts, their value, the sentence or table row they sit in, a category
and a financial year. Not here: which decision they belong to (extract/__init__.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

SCALE = {"k": 1000, "thousand": 1000, "m": 1_000_000, "mn": 1_000_000, "million": 1_000_000,
         "bn": 1_000_000_000, "billion": 1_000_000_000}
WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "twenty": 20, "fifty": 50, "hundred": 100}
FRACTIONS = {"a quarter": Decimal("0.25"), "quarter": Decimal("0.25"), "a half": Decimal("0.5"),
             "half": Decimal("0.5"), "three quarters": Decimal("0.75"), "a third": Decimal(1) / 3}

_NUM = r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?"
_SCALE_RE = r"(k|m|mn|bn|million|billion|thousand)\b"
POUND_AMOUNT = re.compile(r"£\s?" + _NUM + r"(?:\s*" + _SCALE_RE + r")?", re.I)
POUND_RANGE = re.compile(r"£\s?" + _NUM + r"\s*(?:-|–|to)\s*£?\s?" + _NUM + r"\s*" + _SCALE_RE, re.I)
POUNDS_WORDED = re.compile(r"(?<![£\w.,])" + _NUM + r"(?:\s*" + _SCALE_RE + r")?\s+(?:pounds|GBP)\b", re.I)
GBP_PREFIX = re.compile(r"\bGBP\s?" + _NUM + r"(?:\s*" + _SCALE_RE + r")?", re.I)
WORDS_AMOUNT = re.compile(
    r"\b(a quarter|quarter|a half|half|three quarters|a third|an?|one|two|three|four|five|six|seven|eight|nine|"
    r"ten|twenty|fifty|hundred)\s+(?:of\s+)?(?:a\s+)?(million|billion|thousand)\s+pounds\b", re.I)
FINANCIAL_YEAR = re.compile(r"(?<!\d)(20\d\d)\s*[/\-–]\s*(20\d\d|\d\d)(?!\d)")

CATEGORIES = [  # first match wins; the context is lower-cased
    ("cost_avoidance", re.compile(r"\bavoid|\bavoidance")),
    ("saving", re.compile(r"\bsaving|\bsave[sd]?\b|\breduc(?:e|tion) (?:in )?(?:spend|cost|budget)")),
    ("budget", re.compile(r"\bbudget")),
    ("allocation", re.compile(r"\ballocat|\bfunding|\bfund(?:ed|s)?\b|\binvest|\bgrant\b|\bcontribution|"
                              r"\bearmarked|\breserve|\bspend(?:ing)?\b|\bapprov")),
    ("cost", re.compile(r"\bcost|\bsalar|\bprice|\bpay(?:ment)?s?\b|\bexpenditure|\bspend")),
]


@dataclass
class Amount:
    value: Decimal
    text_as_written: str
    start: int
    end: int


def _number(whole: str, frac: str | None, scale: str | None) -> Decimal:
    value = Decimal(whole.replace(",", "") + (f".{frac}" if frac else ""))
    if scale:
        value *= SCALE[scale.lower()]
    return value


def find_amounts(text: str) -> list[Amount]:
    """Every money amount in text, in order; a range '£8-10m' gives both ends."""
    found: list[Amount] = []
    taken: list[tuple[int, int]] = []

    def add(value: Decimal, m: re.Match, start=None, end=None):
        s, e = (m.start() if start is None else start), (m.end() if end is None else end)
        found.append(Amount(value.normalize() if value == value.to_integral() else value, text[s:e].strip(), s, e))

    for m in POUND_RANGE.finditer(text):
        scale = m.group(5)
        add(_number(m.group(1), m.group(2), scale), m)
        add(_number(m.group(3), m.group(4), scale), m)
        taken.append(m.span())
    for pattern in (POUND_AMOUNT, GBP_PREFIX, POUNDS_WORDED):
        for m in pattern.finditer(text):
            if any(a <= m.start() < b for a, b in taken):
                continue
            add(_number(m.group(1), m.group(2), m.group(3)), m)
            taken.append(m.span())
    for m in WORDS_AMOUNT.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        head = m.group(1).lower()
        factor = FRACTIONS.get(head) or Decimal(WORD_NUMBERS[head])
        add((factor * SCALE[m.group(2).lower()]).quantize(Decimal(1)), m)
    found.sort(key=lambda a: (a.start, a.end))
    return found


def exact(value: Decimal) -> str:
    """Decimal as plain text with no exponent and no trailing zeros."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def category_of(context: str) -> str:
    lower = context.lower()
    for name, pattern in CATEGORIES:
        if pattern.search(lower):
            return name
    return "other"


def financial_year(context: str) -> str | None:
    """'2022/23', '2019-2020', '2023-24' as 'YYYY-YY'; None when the context names no year pair."""
    for m in FINANCIAL_YEAR.finditer(context):
        start, end = int(m.group(1)), m.group(2)
        end_num = int(end) if len(end) == 4 else (start // 100) * 100 + int(end)
        if end_num == start + 1:
            return f"{start}-{str(end_num)[2:]}"
    return None
