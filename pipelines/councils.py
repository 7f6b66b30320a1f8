"""Councils tied to mySociety's register of UK local authorities (CC-BY-4.0, credit mySociety).

Evidence, strongest first: the sidecar's `council`, the source URL's domain, e-mail domains in
the text, then a council's full name written in the text. Where nothing identifies the council
the answer is None: a phone code or a town name is not enough, and we never guess.
"""
from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from urllib.parse import urlparse

DATA = Path(__file__).resolve().parent / "data"
REGISTER = DATA / "uk_local_authorities" / "uk_local_authorities.csv"
AUTHORITY_WORDS = re.compile(r"(?i)\b(council|borough|corporation|authority)\b")
_GENERIC_LABELS = {"democracy", "moderngov", "modgov", "cmis", "committees", "councillors", "www", "council",
                   "cabinet", "decisions", "meetings", "councilmeetings", "cds", "mgov", "minutes", "gov", "uk"}


@dataclass(frozen=True)
class Council:
    code: str
    name: str
    nice_name: str
    gss_code: str
    type_name: str
    start: str
    end: str
    current: bool
    nation: str


def _compact(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower().replace("&", "and"))


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9]+", " ", text.lower().replace("&", " and "))).strip()


class Register:
    """The register, indexed by code, by name and by the web-domain label derived from names."""

    def __init__(self, path: Path = REGISTER):
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        self.by_code: dict[str, Council] = {}
        self.by_name: dict[str, set[str]] = {}
        self.by_domain: dict[str, set[str]] = {}
        self.text_names: dict[str, set[str]] = {}
        for row in rows:
            council = Council(row["local-authority-code"], row["official-name"], row["nice-name"],
                              row["gss-code"], row["local-authority-type-name"], row["start-date"],
                              row["end-date"], row["current-authority"] == "True", row["nation"])
            self.by_code[council.code] = council
            names = {council.name, council.nice_name, *[n for n in row["alt-names"].split(",") if n.strip()]}
            for name in names:
                self.by_name.setdefault(_words(name), set()).add(council.code)
                if AUTHORITY_WORDS.search(name):
                    self.text_names.setdefault(_words(name), set()).add(council.code)
            for label in self._domain_labels(council) | {_compact(n) for n in names if len(_compact(n)) >= 4}:
                self.by_domain.setdefault(label, set()).add(council.code)
        with open(DATA / "uk_local_authorities" / "lookup_name_to_registry.csv", newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                code = row["local-authority-code"]
                if code in self.by_code:
                    self.by_name.setdefault(_words(row["la-name"]), set()).add(code)
        with open(DATA / "council_domains.csv", newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                self.by_domain.setdefault(row["domain_label"], set()).add(row["local-authority-code"])

    @cached_property
    def _text_re(self) -> re.Pattern:
        """All council names as one pattern (compiled on first use: ~1.5 s, and only extraction needs it)."""
        longest_first = sorted(self.text_names, key=len, reverse=True)
        return re.compile(r"\b(" + "|".join(re.escape(n) for n in longest_first) + r")\b")

    @staticmethod
    def _domain_labels(council: Council) -> set[str]:
        nice = council.nice_name
        labels = {_compact(nice), _compact(council.name)}
        core = re.sub(r"(?i)\b(city of|county of|royal borough of|london borough of|borough of|council|county|"
                      r"borough|district|metropolitan|city|corporation)\b", " ", nice)
        labels.add(_compact(core))
        for suffix in ("cc", "council", "dc", "bc", "mbc", "city", "county"):
            labels.add(_compact(core) + suffix)
        words = [w for w in _words(council.name).split() if w not in ("of", "and", "the", "upon", "on")]
        if len(words) >= 3:
            labels.add("".join(w[0] for w in words))
        return {label for label in labels if len(label) >= 3}

    def get(self, code: str | None) -> Council | None:
        return self.by_code.get(code) if code else None

    def _pick(self, codes: set[str], on: str | None) -> str | None:
        """One code from candidates: the one in existence on the document's date, else the current one."""
        if not codes:
            return None
        if len(codes) == 1:
            return next(iter(codes))
        live = [c for c in codes if _in_force(self.by_code[c], on)] if on else []
        if len(live) == 1:
            return live[0]
        current = [c for c in codes if self.by_code[c].current]
        return current[0] if len(current) == 1 else None

    def from_name(self, name: str | None, on: str | None = None) -> str | None:
        if not name:
            return None
        if name.upper() in self.by_code:
            return name.upper()
        return self._pick(self.by_name.get(_words(name), set()), on)

    def from_domain(self, host: str | None, on: str | None = None) -> str | None:
        if not host:
            return None
        host = host.lower().split(":")[0]
        labels = [p for p in re.split(r"\.", re.sub(r"\.(gov|org|co|ac|nhs|police)\.(uk|wales|scot)$|"
                                                  r"\.(gov\.uk|gov\.wales|gov\.scot|uk|com|org|net)$", "", host)) if p]
        for label in reversed(labels):
            if label in _GENERIC_LABELS:
                continue
            code = self._pick(self.by_domain.get(label, set()), on)
            if code:
                return code
        return None

    def from_text(self, text: str, on: str | None = None) -> str | None:
        """The council whose full name ('... County Council', 'London Borough of ...') the text names most."""
        counts: Counter = Counter()
        first_at: dict[str, int] = {}
        for m in self._text_re.finditer(_words(text)):
            code = self._pick(self.text_names[m.group(1)], on)
            if code:
                counts[code] += 1
                first_at.setdefault(code, m.start())
        if not counts:
            return None
        best = max(counts.values())
        tied = sorted((c for c, n in counts.items() if n == best), key=lambda c: first_at[c])
        return tied[0] if len(tied) == 1 else None

    def resolve(self, text: str, meta: dict, on: str | None = None) -> tuple[str | None, str | None]:
        """(council code, how it was found) for one document."""
        code = self.from_name(meta.get("council"), on)
        if code:
            return code, "sidecar"
        url = meta.get("source_url")
        code = self.from_domain(urlparse(url).hostname if url else None, on)
        if code:
            return code, "source_url"
        domains = Counter(m.group(1).lower() for m in re.finditer(r"[\w.+\-]+@([\w\-]+(?:\.[\w\-]+)+)", text))
        for domain, _ in domains.most_common():
            code = self.from_domain(domain, on)
            if code:
                return code, "email_domain"
        code = self.from_text(text, on)
        return (code, "named_in_text") if code else (None, None)


def _in_force(council: Council, on: str) -> bool:
    return (not council.start or council.start <= on) and (not council.end or on <= council.end)


@lru_cache(maxsize=1)
def register() -> Register:
    return Register()
