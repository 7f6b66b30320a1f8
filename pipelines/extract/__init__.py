"""Extraction: one normalised document in, rows for every contract table out.

Belongs here: putting the field, money, post and people finders together into rows with stable
IDs. Not here: reading files (ingest.py), table building and validation (tables.py,
validate.py), Dagster. Bump EXTRACTOR_VERSION whenever extraction output can change, so cached
extractions are redone.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from ..councils import register
from ..ingest import RawDocument
from . import fields as F
from .dates import parse_date
from .money import category_of, exact, financial_year, find_amounts
from .people import find_people, is_mobile
from .posts import extract_posts
from .topics import topics_for

EXTRACTOR_VERSION = "1.2.0"


@dataclass
class Extraction:
    """The rows one document contributes to each table."""

    document: dict
    decisions: list[dict] = field(default_factory=list)
    meetings: list[dict] = field(default_factory=list)
    amounts: list[dict] = field(default_factory=list)
    posts: list[dict] = field(default_factory=list)
    people: list[dict] = field(default_factory=list)


def short_hash(*parts) -> str:
    return hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode()).hexdigest()[:12]


def document_id_for(source_path: str) -> str:
    """A document is identified by where it lives in the raw folder, so correcting its text keeps
    its ID (and its records' IDs) and the next release shows a change, not a removal and an addition."""
    return f"doc-{hashlib.sha256(source_path.encode('utf-8')).hexdigest()[:16]}"


def _sentence_around(text: str, start: int, end: int) -> str:
    """The sentence, list item or table row that holds text[start:end]."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    line = text[line_start:line_end]
    if "\t" in line:
        return re.sub(r"\t+", " | ", line.strip())
    rel_s, rel_e = start - line_start, end - line_start
    bounds = [m.end() for m in re.finditer(r"[.!?](?:\s+|$)(?=[A-Z(\d•\-])", line) if m.end() <= rel_s]
    s = bounds[-1] if bounds else 0
    m = re.search(r"[.!?](?:\s|$)", line[rel_e:])
    e = rel_e + m.end() if m else len(line)
    return re.sub(r"\s+", " ", line[s:e]).strip()


def extract_document(doc: RawDocument, include_contact_details: bool = False) -> Extraction:
    text = doc.text
    labels = F.scan_labels(text)
    lab = {key: F.first_label(labels, key) for key in F.LABELS}
    doc_type = F.classify(text, labels)
    document_id = document_id_for(doc.source_path)

    title, reference = F.heading_title(text, doc_type)
    header = F.report_header(text) if doc_type in ("committee_report", "minutes", "other") else {}
    list_entries = F.decisions_list_entries(text) if doc_type == "other" else []
    if lab["title"]:
        title = F.clean_value(re.split(r"\s+Report No\b", lab["title"].block)[0])
    title = title or header.get("title") or (list_entries[0]["title"] if list_entries else None)

    meeting = F.meeting_from_text(text, labels)
    if not meeting.get("body") and header.get("meeting_body"):
        meeting["body"] = header["meeting_body"]
    if not meeting.get("meeting_date") and header.get("meeting_date"):
        meeting["meeting_date"] = header["meeting_date"]
    if doc_type == "committee_report" and not meeting.get("body"):
        meeting["body"] = F.body_from_prose(text)
    doc_date = (parse_date(lab["decision_date"].value) if lab["decision_date"] else None) or meeting.get(
        "meeting_date") or (parse_date(lab["publication_date"].value) if lab["publication_date"] else None)

    council_id, council_basis = register().resolve(text, doc.meta, doc_date)
    document = {
        "document_id": document_id, "source_path": doc.source_path, "source_url": doc.meta.get("source_url"),
        "sha256": doc.sha256, "media_type": doc.media_type, "document_type": doc_type, "council_id": council_id,
        "title": title, "char_count": len(text), "byte_count": doc.byte_count,
        "council_basis": council_basis, "retrieved_at": doc.meta.get("retrieved_at"),
        "extractor_version": EXTRACTOR_VERSION,
    }
    out = Extraction(document)

    meeting_id = None
    if meeting.get("body") or meeting.get("meeting_date"):
        meeting_id = f"mtg-{short_hash(document_id, meeting.get('body'), meeting.get('meeting_date'))}"
        out.meetings.append({"meeting_id": meeting_id, "document_id": document_id, "council_id": council_id,
                             "body": meeting.get("body"), "meeting_date": meeting.get("meeting_date"),
                             "agenda_item": meeting.get("agenda_item"), "item_title": meeting.get("item_title")})

    decision_text = lab["decision"].block if lab["decision"] else None
    if lab["decision"] and lab["decision"].spelling.upper() == "RESOLVED":
        decision_text = "RESOLVED " + decision_text
    maker = F.clean_value(lab["decision_maker"].value) if lab["decision_maker"] else None
    if not maker and doc_type in ("issue_meetings", "agenda_item", "minutes"):
        maker = F.decision_maker_from_text(decision_text) or (meeting.get("body") if decision_text else None)
    if not maker and doc_type == "issue_meetings":
        maker = meeting.get("body")
    status = F.clean_value(lab["decision_status"].value) if lab["decision_status"] else None
    status = status or F.status_from_decision_text(decision_text)
    decision_date = parse_date(lab["decision_date"].value) if lab["decision_date"] else None
    if not decision_date and doc_type == "issue_meetings" and decision_text:
        decision_date = meeting.get("meeting_date")
    key = F.yes_no(lab["is_key_decision"].value) if lab["is_key_decision"] else F.key_decision_from_prose(text)
    call_in = F.yes_no(lab["is_subject_to_call_in"].value) if lab["is_subject_to_call_in"] else None
    decision = {
        "title": title,
        "reference": F.clean_value(lab["reference"].value) if lab["reference"] else reference,
        "decision_maker": maker, "decision_status": status, "is_key_decision": key,
        "is_subject_to_call_in": call_in, "decision_date": decision_date,
        "publication_date": parse_date(lab["publication_date"].value) if lab["publication_date"] else None,
        "effective_from": parse_date(lab["effective_from"].value) if lab["effective_from"] else None,
        "purpose": F.clean_value(lab["purpose"].block) if lab["purpose"] else None,
        "decision_text": F.clean_value(decision_text),
        "alternatives_considered": F.clean_value(lab["alternatives"].block) if lab["alternatives"] else None,
        "wards_affected": F.clean_value(lab["wards"].value) if lab["wards"] else None,
    }
    if list_entries:
        entry = list_entries[0]
        decision.update(title=entry["title"], reference=entry["reference"],
                        decision_status=decision["decision_status"] or entry["decision_status"])
    has_decision = doc_type in ("decision_notice", "issue_meetings") or list_entries or any(
        decision[k] is not None for k in ("decision_maker", "decision_status", "is_key_decision",
                                           "is_subject_to_call_in", "decision_date", "publication_date",
                                           "reference", "decision_text"))
    decision_id = None
    if has_decision:
        decision_id = f"{document_id}-dec-1"
        out.decisions.append({"decision_id": decision_id, "document_id": document_id, "council_id": council_id,
                              "meeting_id": meeting_id, **decision,
                              "topics": topics_for(title, decision["purpose"], decision["decision_text"])})

    for n, amount in enumerate(find_amounts(text), start=1):
        context = _sentence_around(text, amount.start, amount.end)
        out.amounts.append({
            "amount_id": f"{document_id}-amt-{n:04d}", "document_id": document_id, "decision_id": decision_id,
            "amount_gbp": exact(amount.value), "text_as_written": amount.text_as_written,
            "category": category_of(context), "financial_year": financial_year(context), "context": context})

    for n, post in enumerate(extract_posts(text), start=1):
        out.posts.append({
            "post_id": f"{document_id}-post-{n:03d}", "document_id": document_id, "decision_id": decision_id,
            "title": post.title, "grade": post.grade, "fte": None if post.fte is None else exact(post.fte),
            "headcount": post.headcount, "unit_cost_gbp": None if post.unit_cost is None else exact(post.unit_cost),
            "total_cost_gbp": None if post.total_cost is None else exact(post.total_cost),
            "temporary": post.temporary, "duration_months": post.duration_months,
            "financial_year": post.financial_year or financial_year(post.context), "context": post.context,
            "source": post.source})

    for person in find_people(text, labels):
        row = {"person_id": f"per-{short_hash(document_id, person.name)}", "document_id": document_id,
               "name": person.name, "role": person.role}
        if include_contact_details:
            row["email"] = person.email
            row["phone"] = None if is_mobile(person.phone) else person.phone
        out.people.append(row)
    return out

