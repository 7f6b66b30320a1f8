"""Named people (officers, councillors, contacts) with their role as written.

A name is a known given name followed by a capitalised surname, or a surname after a title
('Councillor Dervish', 'Cllr Bell'). Roles come from the words around the name: 'Name, Role',
'Role: Name', or a signature block (name on one line, role on the next).
Contact details are collected separately so the publisher can drop them (privacy settings).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
TITLES = r"(?:Councillor|Cllr\.?|Mr\.?|Mrs\.?|Ms\.?|Miss|Dr\.?|Professor|Prof\.?|Sir|Dame|Lord|Lady|Baroness)"
_CAP = r"[A-Z][a-z]+(?:['’\-][A-Z]?[a-z]+)*"
_SURNAME = r"(?:Mc|Mac|O['’])?[A-Z][a-z]+(?:['’\-][A-Z][a-z]+)*"
NAME = re.compile(r"\b(" + _CAP + r")(?:[ \t]+|\n\n?)((?:[A-Z]\.?[ \t]+)?" + _SURNAME + r")\b")
TITLED = re.compile(r"\b(" + TITLES + r")[ \t]+((?:" + _CAP + r"[ \t]+)?" + _SURNAME + r")\b")
# Capitalised words that follow a given name but are not surnames ('Grace Academy', 'Will Street').
NOT_SURNAMES = {
    "academy", "school", "college", "council", "committee", "service", "services", "team", "centre", "center",
    "house", "hall", "street", "road", "lane", "way", "avenue", "court", "trust", "board", "partnership",
    "programme", "project", "plan", "report", "fund", "group", "unit", "primary", "park", "the", "and",
    "county", "city", "borough", "district", "church", "hospital", "ward", "place", "square", "close",
    "gardens", "green", "hill", "bridge", "director", "manager", "officer", "head", "chief", "executive",
    "member", "lead", "leader", "cabinet", "mayor", "policy", "social", "care", "family", "children",
    "young", "early", "help", "safeguarding", "support", "strategy", "mental", "health", "education",
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "foundation", "framework", "model", "review", "act", "order", "orders", "guardianship", "white", "paper",
    "decision", "decisions", "maker", "status", "purpose", "meeting", "minutes", "item", "agenda", "date",
    "publication", "reference", "contact", "year", "grant", "budget", "funding", "options", "recommendations",
}
NOT_GIVEN = {"will", "may", "june", "april", "august", "mark", "grace", "hope", "faith", "joy", "early", "case",
             "young", "care", "page", "see", "in", "chase", "lane", "dean", "major", "rich", "sterling",
             "summer", "autumn", "winter", "spring", "king", "queen", "royal", "new", "north", "south", "east",
             "west", "best", "star", "long", "love", "guy", "bill", "frank", "an", "the", "so", "ma", "son",
             "carry", "dominique", "christian", "trinity", "major", "harris", "charter", "globe", "kingsdale"}
ROLE_WORDS = re.compile(
    r"(?i)\b(director|manager|officer|head|chief|executive|leader|member|councillor|lead|chair|chairman|"
    r"mayor|author|contact|practitioner|worker|adviser|advisor|coordinator|co-ordinator|assistant|"
    r"portfolio|secretary|clerk|solicitor|treasurer|commissioner|consultant|analyst|principal|deputy)\b")
_ROLE_STOP = re.compile(r"\s*(?:\bTel\b|\bT:|\bE:|\bEmail\b|\be-mail\b|\bPhone\b|\bMobile\b|\[|\(\d|\d{4,}|"
                        r"\bpresented\b|\band\s+(?=([A-Z][a-z]+)\s+[A-Z])|;|\n|$)")
PHONE = re.compile(r"(?:\+44\s?|\(?0)\d{2,4}\)?[\s\-]?\d{3,4}[\s\-]?\d{3,4}")
EMAIL = re.compile(r"\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b")
LABELLED_ROLES = {"report author": "Report author", "contact": "Contact", "author": None, "lead officer": None,
                  "executive member": "Executive Member", "cabinet member": "Cabinet Member",
                  "portfolio holders": None, "portfolio holder": "Portfolio Holder"}


@dataclass
class Person:
    name: str
    role: str | None
    start: int
    email: str | None = None
    phone: str | None = None


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    names = (DATA / "given_names.txt").read_text(encoding="utf-8").split()
    return frozenset(n for n in names if n not in NOT_GIVEN)


def _is_place(name: str) -> bool:
    from ..councils import register

    return register().from_name(name) is not None


def _plausible(first: str, last: str) -> bool:
    return first.lower() in given_names() and last.lower() not in NOT_SURNAMES and len(last) > 1


def _role_after(text: str, pos: int) -> str | None:
    """Role written right after a name: ', Head of Service' or ' Assistant Director (...)'."""
    tail = text[pos: pos + 160]
    m = re.match(r"\s*\(([^)]{3,80})\)", tail)
    if m and ROLE_WORDS.search(m.group(1)):
        return m.group(1).strip()
    m = re.match(r"\s*(?:,|-|–|\n)?\s*", tail)
    rest = tail[m.end():]
    stop = _ROLE_STOP.search(rest)
    while stop and stop.group(1) and stop.group(1).lower() not in given_names():
        stop = _ROLE_STOP.search(rest, stop.end())  # 'and Communities' is part of the role, not a new name
    role = rest[: stop.start()].strip(" ,.-–") if stop else ""
    if role.endswith(")") and role.count("(") < role.count(")"):
        role = role[:-1]
    role = re.sub(r",\s*(?:presented|introduced|attended|submitted|said|reported).*$", "", role)
    if role and ROLE_WORDS.search(role) and len(role) <= 100 and not re.match(r"(?i)(and|the|of)\b", role):
        return role
    return None


def find_people(text: str, labels=()) -> list[Person]:
    """Every named person, first mention first; later mentions only fill in a missing role."""
    found: dict[str, Person] = {}

    def add(name: str, role: str | None, start: int):
        name = re.sub(r"\s+", " ", name).strip()
        key = name.lower()
        if key in found:
            if not found[key].role and role:
                found[key].role = role
            return
        # a surname-only mention of someone already named in full is the same person
        if " " not in name and any(k.split()[-1] == key for k in found):
            return
        found[key] = Person(name, role, start)

    for m in TITLED.finditer(text):
        title, name = m.group(1).rstrip("."), m.group(2)
        parts = name.split()
        if len(parts) == 2 and not _plausible(*parts):
            name = parts[0] if parts[0].lower() not in NOT_SURNAMES else None
        if name and name.split()[-1].lower() not in NOT_SURNAMES:
            role = _role_after(text, m.end())
            if role is None:
                before = text[max(0, m.start() - 80): m.start()]
                lab = re.search(r"(?:^|\n|,\s|the\s)((?:[A-Z][\w&]*\s+(?:for\s+|of\s+|&\s+|and\s+)?){1,8})(?:,\s*)?$",
                                before)
                role = lab.group(1).strip(" ,") if lab and ROLE_WORDS.search(lab.group(1)) else (
                    "Councillor" if title.lower().startswith(("councillor", "cllr")) and " " not in name else None)
                if role is None and title.lower().startswith(("councillor", "cllr")):
                    role = "Cllr" if title.lower().startswith("cllr") else "Councillor"
            add(name, role, m.start())
    for m in NAME.finditer(text):
        first, last = m.group(1), m.group(2).split()[-1]
        if not _plausible(first, last):
            continue
        if re.match(r"(?i)\s*(?:Council|Committee|Academy|School|Centre|House|Street|Road|Trust|District|County|"
                    r"Borough)\b", text[m.end():m.end() + 12]) or _is_place(f"{first} {last}"):
            continue
        name = f"{first} {m.group(2)}"
        before = text[max(0, m.start() - 2): m.start()]
        if before.endswith(("“", '"', "‘")):
            continue
        role = _role_after(text, m.end())
        if role is None:
            lab = re.search(r"([A-Z][\w ()&]{2,40}?)\s*:\s*$", text[max(0, m.start() - 45): m.start()])
            if lab and lab.group(1).lower() in LABELLED_ROLES:
                role = LABELLED_ROLES[lab.group(1).lower()] or None
            elif lab and ROLE_WORDS.search(lab.group(1)):
                role = lab.group(1).strip()
        add(name, role, m.start())
    people = sorted(found.values(), key=lambda p: p.start)
    for person in people:
        window = text[person.start: person.start + 200]
        email = EMAIL.search(window)
        phone = PHONE.search(window)
        person.email = email.group(0) if email else None
        person.phone = phone.group(0) if phone else None
    return people


def is_mobile(phone: str | None) -> bool:
    digits = re.sub(r"\D", "", phone or "")
    return digits.startswith("07") or digits.startswith("447")
