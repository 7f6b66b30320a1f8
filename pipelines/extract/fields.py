"""Document-level fields: label/value pairs, titles, meetings, decisions and the document type.

Belongs here: the ModernGov/CMIS label grammar ("Decision Maker:", "Meeting: 24/05/2016 - Cabinet
(Item 42)"), report headers, and deciding what kind of document a text is.
Not here: money, posts and people (their own modules), council resolution (councils.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .dates import find_date, is_date_line, parse_date

# Canonical label -> spellings seen in council pages. Longest spellings are tried first.
LABELS: dict[str, list[str]] = {
    "decision_maker": ["Decision Maker", "Decision taker", "Decision-maker"],
    "decision_status": ["Decision status"],
    "is_key_decision": ["Is Key decision?", "Is key decision", "Key decision?", "Is this a key decision?"],
    "is_subject_to_call_in": ["Is subject to call in?", "Is subject to call-in?", "Subject to call-in?",
                              "Subject to call in?"],
    "publication_date": ["Publication date", "Decision published", "Date published", "Date of publication"],
    "decision_date": ["Date of decision", "Decision date", "Date decision taken"],
    "effective_from": ["Effective from", "Date decision effective", "Decision effective from"],
    "decided_at_meeting": ["Decided at meeting"],
    "reference": ["Forward Plan Ref", "Forward plan reference", "Decision reference", "Key decision reference",
                  "Reference", "Ref"],
    "report_number": ["Report No", "Report number", "Report Ref"],
    "title": ["Title of Report", "Report title", "Subject"],
    "report_to": ["Report to and dates", "Report to", "Meeting of"],
    "purpose": ["Purpose of the Report", "Purpose of report", "The subject of the decision", "Purpose"],
    "decision": ["Decision(s)", "Decisions", "Decision", "Recommendation/s", "Recommendations", "Recommendation",
                 "RESOLVED"],
    "alternatives": ["Alternative options considered", "Alternative options", "Other Options Considered",
                     "Alternatives considered", "Options considered"],
    "reasons": ["Reasons for the decision", "The reason for the decision", "Reasons for Decision",
                "Reason for decision", "Reason/s for Recommendation/s", "Reason Key"],
    "wards": ["Wards Affected", "Divisions Affected", "Electoral Division(s) and Member(s) Affected",
              "Ward(s) affected", "Wards"],
    "contact": ["Contact", "Lead officer", "Report author", "Author", "Executive Member", "Cabinet Member",
                "Portfolio holders", "Portfolio holder", "Lead Member"],
    "meeting": ["Meeting"],
    "agenda_item": ["Agenda Item No", "Agenda Item"],
    "minutes": ["Minutes"],
    "end": ["Accompanying Documents", "Additional documents", "Supporting documents", "Background papers",
            "Venue"],
}
# Labels that name a single value on their line; the rest own a block of following lines.
INLINE = {"decision_maker", "decision_status", "is_key_decision", "is_subject_to_call_in", "publication_date",
          "decision_date", "effective_from", "decided_at_meeting", "reference", "report_number", "meeting",
          "agenda_item", "wards", "contact", "report_to", "title"}
# Short labels are only labels at the start of a line; long ones also inside run-together text.
_SPELLINGS = sorted(((s, k) for k, v in LABELS.items() for s in v), key=lambda p: -len(p[0]))
_LABEL_RE = re.compile(
    r"(?:(?<=\n)|^|(?<=\|)\s*|(?<=[.;\]\)a-z0-9] )|(?<=\d{4} ))(" + "|".join(re.escape(s) for s, _ in _SPELLINGS)
    + r")[ \t]*:", re.I)
_KEY_OF = {s.lower(): k for s, k in _SPELLINGS}
_LINE_START_ONLY = {"decision", "purpose", "minutes", "meeting", "contact", "reference", "ref", "author",
                    "wards", "subject", "resolved", "recommendation", "recommendations", "decisions", "venue",
                    "report to", "cabinet member", "executive member", "lead member", "agenda item",
                    "decision(s)"}


@dataclass
class Label:
    key: str
    spelling: str
    value: str  # the first line of the value
    block: str  # everything up to the next label
    start: int


_LABEL_TAIL = re.compile(r"(" + "|".join(re.escape(s) for s, _ in _SPELLINGS) + r")[ \t]*$", re.I)
_AFTER_TEXT = re.compile(r"(?:[.;\]\)a-z0-9]|\d{4}) $")


def _label_starts(text: str):
    """(start, end, spelling) of every label: a known spelling right before a colon, preceded by a
    line start, a '|' cell separator, or (for long spellings) the end of a phrase in run-together text.
    Found from the colons, which are few, rather than by trying every spelling at every position."""
    for colon in re.finditer(":", text):
        lo = max(0, colon.start() - 70)
        m = _LABEL_TAIL.search(text, lo, colon.start())
        if not m:
            continue
        start, spelling = m.start(1), m.group(1)
        before = text[max(0, start - 5): start]
        at_line_start = start == 0 or text[start - 1] == "\n"
        after_bar = bool(re.search(r"\|\s*$", before))
        if not (at_line_start or after_bar):
            if spelling.lower() in _LINE_START_ONLY:
                if not (spelling.lower() in ("executive member", "cabinet member", "author")
                        and text[start - 1] in "[ " and text[max(0, start - 2)] in "\n[]"):
                    continue
            elif not _AFTER_TEXT.search(before):
                continue
        yield start, colon.end(), spelling


def scan_labels(text: str) -> list[Label]:
    """Every label occurrence with its value, in text order."""
    hits = list(_label_starts(text))
    labels = []
    for i, (start, end, spelling) in enumerate(hits):
        stop = hits[i + 1][0] if i + 1 < len(hits) else len(text)
        block = text[end: stop].strip(" \t|")
        first_line = block.strip().split("\n", 1)[0].strip() if block.strip() else ""
        labels.append(Label(_KEY_OF[spelling.lower()], spelling, first_line, block.strip(), start))
    return labels


def first_label(labels: list[Label], key: str) -> Label | None:
    return next((lab for lab in labels if lab.key == key), None)


def yes_no(value: str | None) -> bool | None:
    if not value:
        return None
    v = value.strip().lower()
    if re.match(r"(yes|y|true)\b", v):
        return True
    if re.match(r"(no|n|false)\b", v):
        return False
    return None


def clean_value(value: str | None) -> str | None:
    if value is None:
        return None
    value = re.sub(r"\s+", " ", value).strip(" ;:,|")
    return value or None


# ---------------------------------------------------------------- document type
HEADINGS = [
    (re.compile(r"^(?:skip to content\s+|menu\s+council meetings\s+)*decision details\b", re.I), "decision_notice"),
    (re.compile(r"^(?:skip to content\s+|menu\s+council meetings\s+)*issue\s*-\s*meetings\b", re.I), "issue_meetings"),
    (re.compile(r"^(?:skip to content\s+|menu\s+council meetings\s+)*agenda item\s*$", re.I | re.M), "agenda_item"),
    (re.compile(r"^(?:skip to content\s+)*decisions\s*$", re.I | re.M), "other"),
]


def classify(text: str, labels: list[Label]) -> str:
    """Document type from the page heading, else from which labels and cues the text carries."""
    head = "\n".join(text.split("\n")[:6])
    for pattern, doc_type in HEADINGS:
        if pattern.search(head[:120]) if doc_type != "agenda_item" else pattern.match(head):
            return doc_type
    keys = {lab.key for lab in labels}
    lower = text[:6000].lower()
    if len(re.findall(r"(?im)^\s*decision maker\s*:", text)) > 1 or "decisions published" in lower:
        return "other"
    if {"decision_maker", "decision_status"} <= keys or ("decision_status" in keys and "decision_date" in keys):
        return "decision_notice"
    if re.search(r"(?m)^meeting:\s*\d", text, re.I):
        return "issue_meetings"
    minutes_cues = len(re.findall(r"\b(present:|apologies for absence|minutes of the|declarations? of interests?"
                                  r"|were agreed as a correct record|venue:)", lower))
    report_cues = len(re.findall(r"\b(report of|report by|purpose of (?:the )?report|title of report|report to"
                                 r"|recommendation|financial implications|agenda item\s*:|report author)", lower))
    if minutes_cues >= 2 and minutes_cues >= report_cues:
        return "minutes"
    if report_cues >= 2:
        return "committee_report"
    if minutes_cues:
        return "minutes"
    return "other"


# ---------------------------------------------------------------- titles
_REF_PREFIX = re.compile(r"^([A-Z]{2,}[A-Z/\-]*\s?\d[\w/\-]*)\s+(\S.*)$")
_ITEM_SUFFIX = re.compile(r"\s*(?:pdf icon\s*)?(?:PDF|DOC|DOCX)\s+[\d.,]+\s*[KM]B\s*$", re.I)
_MEETING_LINE = re.compile(r"(?:^|\n)\s*(?:Meeting|Decided at meeting)\s*:\s*(\d{1,2}/\d{1,2}/\d{2,4})\s*[-–]\s*"
                           r"(.+?)\s*(?:\((?:Item|Agenda item)\s*([\w.]+)\)\s*)?(?=\n|$)", re.I)
_LIST_ENTRY = re.compile(r"^(\d{1,2}/\d{1,2}/\d{4})\s*-\s*(.+?)\s+ref:\s*([\w/\-.]+)\s*(.*)$", re.I | re.M)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n")]


def _next_content_line(lines: list[str], start: int) -> tuple[int, str] | None:
    for i in range(start, len(lines)):
        if lines[i]:
            return i, lines[i]
    return None


def _is_label_line(line: str) -> bool:
    m = _LABEL_RE.match(line)
    return bool(m)


def _strip_markers(title: str) -> str:
    return re.sub(r"[\s*#†‡]+$", "", title).strip()


def heading_title(text: str, doc_type: str) -> tuple[str | None, str | None]:
    """(title, reference) from the line under a ModernGov page heading."""
    lines = _lines(text)
    heading = {"decision_notice": "decision details", "issue_meetings": "issue - meetings",
               "agenda_item": "agenda item"}.get(doc_type)
    if heading is None:
        return None, None
    for i, line in enumerate(lines[:8]):
        if re.sub(r"\s+", " ", line.lower()).replace("issue-meetings", "issue - meetings") == heading:
            nxt = _next_content_line(lines, i + 1)
            if not nxt or _is_label_line(nxt[1]) or is_date_line(nxt[1]):
                return None, None
            title = _strip_markers(nxt[1])
            ref = None
            m = _REF_PREFIX.match(title)
            if m and doc_type == "decision_notice":
                ref, title = m.group(1), m.group(2)
            return title, ref
    return None, None


def report_header(text: str) -> dict:
    """Title, meeting body and date from a committee report's header block."""
    lines = _lines(text)
    out: dict = {}
    head = [(i, line) for i, line in enumerate(lines[:40]) if line]
    for pos, (i, line) in enumerate(head):
        if re.match(r"(?i)^\[?report (?:of|by)\b", line):
            after = head[pos + 1][1] if pos + 1 < len(head) else ""
            before = head[pos - 1][1] if pos > 0 else ""
            if after and after.isupper() and not _is_label_line(after) and not is_date_line(after):
                out["title"] = after
            elif before and not _is_label_line(before) and not is_date_line(before):
                out["title"] = before
            break
    # body line directly followed by a date line (e.g. "FOSTERING SERVICES TOPIC GROUP" / "FRIDAY 22 ...")
    for pos, (i, line) in enumerate(head[:12]):
        if is_date_line(line):
            out.setdefault("meeting_date", parse_date(line))
            prev = head[pos - 1][1] if pos > 0 else ""
            if prev and not is_date_line(prev) and not _is_label_line(prev) and not re.search(
                    r"(?i)\bcouncil$|\bcorporation$", prev) and len(prev) < 80:
                out.setdefault("meeting_body", prev)
            break
    return out


def meeting_from_text(text: str, labels: list[Label]) -> dict:
    """Meeting body, date and item number from 'Meeting:' lines, report headers or prose."""
    out: dict = {}
    m = _MEETING_LINE.search(text)
    if m:
        out.update(meeting_date=parse_date(m.group(1)), body=clean_value(m.group(2)),
                   agenda_item=m.group(3))
        item_line = re.search(r"(?m)^" + re.escape(m.group(3)) + r"\.?\s+(\S.+)$", text[m.end():]) if m.group(3) else None
        if item_line:
            out["item_title"] = _ITEM_SUFFIX.sub("", item_line.group(1)).strip()
        return out
    report_to = first_label(labels, "report_to")
    if report_to:
        found = find_date(report_to.value)
        if found:
            body = clean_value(report_to.value[: found[1]])
            if body:
                out.update(body=body, meeting_date=found[0])
    item = first_label(labels, "agenda_item")
    if item and re.match(r"^[\w.]{1,6}$", item.value or ""):
        out["agenda_item"] = item.value
    return out


_APPROPRIATE_BODY = re.compile(
    r"((?:[A-Z][\w&'’]*\s+|and\s+|&\s+|of\s+)*?(?:[A-Z][\w'’]*\s+)?"
    r"(?:Committee|Sub-Committee|Cabinet|Panel|Board|Executive))\s+is the appropriate body")


def body_from_prose(text: str) -> str | None:
    m = _APPROPRIATE_BODY.search(text)
    return m.group(1).strip() if m else None


# ---------------------------------------------------------------- decisions
_DECIDER = re.compile(
    r"\b(?:the\s+)?((?:Executive\s+|City\s+|Deputy\s+)?Mayor|Cabinet(?:\s+Member)?|Executive|Full Council|Council|"
    r"[A-Z][\w&' ]{2,60}?\s(?:Committee|Panel|Board))\s+(?:has\s+)?(?:agreed|approved|approves|resolved|"
    r"decided|endorsed)\b", re.I)
_STATUS_WORDS = re.compile(r"(?i)^(recommendations?\s+(?:agreed|approved|noted|rejected|deferred|not approved)|"
                           r"(?:agreed|approved|noted|deferred|rejected|withdrawn)(?:\s+as\s+amended)?)\.?$")


def decision_maker_from_text(decision_text: str | None) -> str | None:
    if not decision_text:
        return None
    m = _DECIDER.search(decision_text)
    if not m:
        return None
    maker = re.sub(r"\s+", " ", m.group(1)).strip()
    return maker[0].upper() + maker[1:]


def decisions_list_entries(text: str) -> list[dict]:
    """Entries of a 'Decisions published' list: 'DD/MM/YYYY - Title ref: N  Status'."""
    out = []
    for m in _LIST_ENTRY.finditer(text):
        out.append({"listed_date": parse_date(m.group(1)), "title": m.group(2).strip(),
                    "reference": m.group(3).strip(), "decision_status": clean_value(m.group(4)),
                    "start": m.start()})
    return out


def status_from_decision_text(decision_text: str | None) -> str | None:
    if not decision_text:
        return None
    first = decision_text.strip().split("\n", 1)[0].strip()
    return first.rstrip(".") if _STATUS_WORDS.match(first) else None


def key_decision_from_prose(text: str) -> bool | None:
    if re.search(r"(?i)\bnon[- ]key\s+(?:executive\s+)?decision", text):
        return False
    if re.search(r"(?i)\b(?:is|be)\s+(?:deemed\s+to\s+be\s+)?a\s+key\s+decision", text):
        return True
    return None
