"""UK dates as written ('11/06/2021', '7th March 2022', 'FRIDAY 22 FEBRUARY 2008') to ISO 8601."""
from __future__ import annotations

import re
from datetime import date

MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}

_MONTH_RE = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
NUMERIC_DATE = re.compile(r"(?<![\d/])(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})(?![\d/])")
WORDED_DATE = re.compile(r"(?<!\d)(\d{1,2})\s*(?:st|nd|rd|th)?\s*(?:of\s+)?" + _MONTH_RE + r"\.?,?\s*(\d{4})(?!\d)", re.I)
ANY_DATE = re.compile(f"{NUMERIC_DATE.pattern}|{WORDED_DATE.pattern}", re.I)


def _iso(year: int, month: int, day: int) -> str | None:
    if year < 100:
        year += 2000 if year < 70 else 1900
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_date(text: str | None) -> str | None:
    """The first UK-format date in text as YYYY-MM-DD, or None."""
    match = find_date(text)
    return match[0] if match else None


def find_date(text: str | None) -> tuple[str, int, int] | None:
    """(iso date, start, end) of the first valid date in text."""
    if not text:
        return None
    for m in ANY_DATE.finditer(text):
        if m.group(1):
            iso = _iso(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        else:
            iso = _iso(int(m.group(6)), MONTHS[m.group(5).lower()[:3]], int(m.group(4)))
        if iso:
            return iso, m.start(), m.end()
    return None


def is_date_line(line: str) -> bool:
    """A line that is essentially a date (and perhaps a weekday and a time)."""
    found = find_date(line)
    if not found:
        return False
    rest = (line[: found[1]] + line[found[2]:]).strip(" ,.-")
    rest = re.sub(r"(?i)\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|at|am|pm|\d{1,2}[.:]\d{2}\s*(?:am|pm)?)\b", "", rest)
    return not re.search(r"[A-Za-z]{2,}", rest)
