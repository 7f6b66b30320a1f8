"""Posts a document creates, deletes or transfers: list lines ('7 FTE Family Lead Practitioners
(Grade 7) temporary for 12 months'), cost tables (Post / Grade / Cost / FTE / Total) and prose
('appoint 7 Newly Qualified Social Workers ... and a Practice Leader').

Structured lines are authoritative: tables only enrich posts the lists already name, and prose is
read only when a document has neither. Belongs here: post titles, counts, grades, costs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from .money import find_amounts, financial_year

HEAD_NOUNS = (
    r"(?:worker|officer|manager|practitioner|leader|lead|assistant|apprentice|advis[eo]r|co-?ordinator|director|"
    r"consultant|analyst|administrator|therapist|psychologist|nurse|clerk|supervisor|mentor|navigator|"
    r"specialist|head|partner|engineer|planner|accountant|solicitor|lawyer|teacher|coach|champion|"
    r"caseworker|educator|trainee|post|role|staff member|support|secretary|controller|inspector|auditor|"
    r"technician|developer|designer|researcher|facilitator|manager|chair|deputy|principal|carer|keyworker)"
)
COUNT_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
               "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20}
_COUNT = r"(\d+(?:\.\d+)?|" + "|".join(sorted(COUNT_WORDS, key=len, reverse=True)) + r")"

LIST_LINE = re.compile(
    r"^([\s•\-–*·?]*(?:[a-z0-9]{1,3}[.)]\s+)?)(\d+(?:\.\d+)?)\s*(FTE|x|×|WTE)?\s+"
    r"([A-Z][\w&'’/,\- ]*[A-Za-z])\s*(?:\(([^)]*)\))?\s*(.*?)[.;,]?\s*$")
_TITLE_END = re.compile(r"(?i)\s+(?=(?:temporary|permanent|fixed[- ]term|interim|full[- ]time|part[- ]time|for\s|to\s|"
                        r"from\s|at\s|on\s|starting|with\s|within\s|until\s|in\s+\d|-\s))")
_PROSE_STOP = {"is", "are", "was", "were", "be", "been", "to", "the", "will", "would", "which", "who", "that",
               "this", "from", "by", "with", "in", "on", "at", "for", "as", "of", "per", "our", "their", "its"}
PROSE_TRIGGER = re.compile(r"(?i)\b(appoint|recruit|add|establish|create|retain|employ|fund|delete|disestablish|"
                           r"transfer|introduce|increase\s+(?:by|the)|second|redeploy)\w*\b")
PROSE_POST = re.compile(r"(?<![\w£.])" + _COUNT + r"\s+((?:[A-Za-z][\w'’\-]*,?\s+(?:and\s+|&\s+)?){0,6}?"
                        + HEAD_NOUNS + r"s?)\b", re.I)
_GRADE_HINT = re.compile(r"(?i)\b(grade|band|scale|point|spine|hay|nje|jnc|so\d|po\d|level)\b")


@dataclass
class Post:
    title: str
    fte: Decimal | None = None
    headcount: int | None = None
    grade: str | None = None
    temporary: bool | None = None
    duration_months: int | None = None
    unit_cost: Decimal | None = None
    total_cost: Decimal | None = None
    financial_year: str | None = None
    context: str = ""
    start: int = 0
    source: str = "list"
    extra: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return title_key(self.title)


def singular(title: str) -> str:
    """Singular of a post title: the head noun loses its plural ('Practitioners' -> 'Practitioner')."""
    words = title.split()
    if not words:
        return title
    last = words[-1]
    low = last.lower()
    if low.endswith("ies") and len(low) > 4:
        last = last[:-3] + ("Y" if last.isupper() else "y")
    elif re.search(r"(ches|shes|sses|xes)$", low):
        last = last[:-2]
    elif low.endswith("s") and not re.search(r"(ss|us|is|ics)$", low):
        last = last[:-1]
    return " ".join(words[:-1] + [last])


def title_key(title: str) -> str:
    text = title.lower().replace("&", " and ")
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    return singular(re.sub(r"\s+", " ", text).strip())


def _temporary(rest: str) -> tuple[bool | None, int | None]:
    temp = True if re.search(r"(?i)\b(temporary|fixed[- ]term|interim|secondment)\b", rest) else (
        False if re.search(r"(?i)\bpermanent\b", rest) else None)
    months = None
    m = re.search(r"(?i)\bfor\s+(\d+|one|two|three|six|twelve|eighteen)\s+(month|year)s?", rest)
    if m:
        n = int(m.group(1)) if m.group(1).isdigit() else {"one": 1, "two": 2, "three": 3, "six": 6, "twelve": 12,
                                                            "eighteen": 18}[m.group(1).lower()]
        months = n * (12 if m.group(2).lower() == "year" else 1)
    return temp, months


def list_posts(text: str) -> list[Post]:
    """Posts from lines of the form 'N FTE Title (Grade) ...'."""
    posts, offset = [], 0
    for line in text.split("\n"):
        m = LIST_LINE.match(line) if "\t" not in line else None
        if m:
            marker, count, unit, title, paren, rest = m.groups()
            cut = _TITLE_END.search(title)
            if cut:
                title, rest = title[: cut.start()], title[cut.end():] + " " + (rest or "")
            title = re.sub(r"\s+", " ", title).strip(" ,-")
            explicit_fte = bool(unit) and unit.upper() in ("FTE", "WTE")
            listed = bool(marker.strip()) or bool(unit) or bool(paren and _GRADE_HINT.search(paren))
            if (explicit_fte or (listed and re.search(HEAD_NOUNS + r"s?$", title, re.I))) and len(title.split()) <= 8:
                grade = paren.strip() if paren and _GRADE_HINT.search(paren) else None
                temp, months = _temporary(rest + " " + (paren or ""))
                qty = Decimal(count)
                posts.append(Post(title=singular(title), fte=qty if explicit_fte else None,
                                  headcount=None if explicit_fte or qty != qty.to_integral() else int(qty),
                                  grade=grade, temporary=temp, duration_months=months, context=line.strip(),
                                  start=offset, source="list"))
        offset += len(line) + 1
    return posts


def table_posts(text: str) -> list[Post]:
    """Rows of tab-separated tables whose header names a post column and a grade, FTE or cost column."""
    posts = []
    offset = 0
    header: list[str] | None = None
    for line in text.split("\n"):
        cells = line.split("\t") if "\t" in line else None
        if cells is None:
            if line.strip():  # blank lines between rows do not end a table
                header = None
        elif header is None:
            low = [c.lower() for c in cells]
            if any(re.search(r"\b(post|role|job title|position)\b", c) for c in low) and any(
                    re.search(r"\b(fte|grade|band|cost|salary|posts)\b", c) for c in low):
                header = low
        else:
            post = _row_post(header, cells, line.strip(), offset)
            if post:
                posts.append(post)
        offset += len(line) + 1
    return posts


def _column(header: list[str], *patterns: str) -> int | None:
    for pattern in patterns:
        for i, name in enumerate(header):
            if re.search(pattern, name):
                return i
    return None


def _row_post(header: list[str], cells: list[str], context: str, start: int) -> Post | None:
    def cell(idx):
        return cells[idx].strip() if idx is not None and idx < len(cells) else ""

    title = re.sub(r"[\s¹²³⁴⁵*†]+$", "", cell(_column(header, r"\b(post|role|job title|position)\b")))
    if not title or not re.search(r"[A-Za-z]{3}", title) or re.match(r"(?i)total", title):
        return None
    new_col = _column(header, r"\bnew posts?\b", r"\bchange\b", r"\badditional\b")
    fte_col = _column(header, r"\brevised fte\b", r"^fte$", r"\bfte\b", r"\bwte\b", r"\bno\.? of posts\b")
    qty_text = cell(new_col) if new_col is not None else cell(fte_col)
    try:
        qty = Decimal(qty_text.replace(",", "")) if qty_text else None
    except ArithmeticError:
        qty = None
    if qty is not None and qty <= 0:
        return None
    grade = cell(_column(header, r"\bgrade\b", r"\bband\b")) or None
    unit = find_amounts(cell(_column(header, r"^cost\b", r"\bcost\b(?!.*total)", r"\bsalary\b")))
    total = find_amounts(cell(_column(header, r"\btotal\b")))
    year = cell(_column(header, r"^year$", r"\byear\b"))
    return Post(title=singular(title), fte=qty, grade=grade, context=context, start=start, source="table",
                unit_cost=unit[0].value if unit else None, total_cost=total[0].value if total else None,
                financial_year=financial_year(year) if year else None)


def prose_posts(text: str) -> list[Post]:
    """Counted posts named after a creating verb in the same sentence."""
    posts = []
    for sentence in re.finditer(r"[^.;:\n]+(?:[;:][^.\n]*)*", text):
        body = sentence.group(0)
        trigger = PROSE_TRIGGER.search(body)
        if not trigger:
            continue
        for m in PROSE_POST.finditer(body, trigger.end()):
            count, title = m.group(1), re.sub(r"\s+", " ", m.group(2)).strip(" ,")
            words = title.split()
            while words and words[0].lower() in ("and", "more", "additional", "new", "further", "extra"):
                words = words[1:]
            if not words or any(w.lower().strip(",") in _PROSE_STOP for w in words):
                continue
            if count[0].isdigit() and (len(count) > 3 or "." in count):
                continue  # years and measures, not head counts
            title = " ".join(words)
            n = COUNT_WORDS.get(count.lower()) if not count[0].isdigit() else Decimal(count)
            if count.lower() in ("a", "an") and not title[0].isupper():
                continue  # 'a permanent worker in post' is a description, not a counted post
            temp, months = _temporary(body)
            posts.append(Post(title=singular(title), headcount=int(n), temporary=temp, duration_months=months,
                              context=body.strip(), start=sentence.start() + m.start(), source="prose"))
    return posts


def extract_posts(text: str) -> list[Post]:
    """Posts of a document, one per distinct (title, FTE); tables merge into listed posts."""
    listed = list_posts(text)
    tabled = table_posts(text)
    posts: list[Post] = []
    seen: dict[tuple, Post] = {}
    for post in listed:
        key = (post.key, post.fte, post.headcount)
        if key in seen:
            _enrich(seen[key], post)
            continue
        seen[key] = post
        posts.append(post)
    for row in tabled:
        match = next((p for p in posts if p.key == row.key and (p.fte == row.fte or p.fte is None)), None) or next(
            (p for p in posts if p.key == row.key), None)
        if match:
            _enrich(match, row)
        elif not listed:
            key = (row.key, row.fte, None)
            if key in seen:
                continue
            seen[key] = row
            posts.append(row)
    if not posts:
        for post in prose_posts(text):
            key = (post.title, post.headcount)  # case kept: 'agency' and 'Agency' posts are written apart
            if key not in seen:
                seen[key] = post
                posts.append(post)
    return posts


def _enrich(post: Post, other: Post) -> None:
    for name in ("grade", "unit_cost", "temporary", "duration_months", "financial_year"):
        if getattr(post, name) is None and getattr(other, name) is not None:
            setattr(post, name, getattr(other, name))
    if post.total_cost is None and other.total_cost is not None and other.fte == post.fte:
        post.total_cost = other.total_cost
