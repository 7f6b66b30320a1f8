#!/usr/bin/env python3
# Vendored unchanged from the project's shared tools (standard library only): the release report
# scores extraction with exactly the method the project is judged by.
"""Score a published council-decisions data package against labelled documents.

Usage:
    score_extraction.py PACKAGE_DIR LABEL_DIR [--json] [--verbose]

PACKAGE_DIR holds datapackage.json and the CSV resources named in the data
contract (documents, decisions, meetings, amounts, posts, people,
organisations). LABEL_DIR holds STEM.txt + STEM.json pairs; STEM.json follows
LABELSPEC.md. Every labelled document must appear in `documents` with a
source_path ending in STEM.txt (or the same file name under any folder).

Per field it counts true positives (value equals the label), false positives
(a value where the label is null, or a wrong value) and false negatives (no
value, or a wrong value, where the label has one), and prints precision,
recall and F1. List fields (amounts, posts, people) are scored as sets per
document. The last line is the macro F1 over all fields.
Only the standard library is used, so it runs in any environment.
"""
from __future__ import annotations

import csv
import difflib
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

SCALAR_FIELDS = [
    "document_type", "council", "title", "reference", "decision_maker",
    "decision_status", "is_key_decision", "is_subject_to_call_in",
    "decision_date", "publication_date", "effective_from",
    "meeting_body", "meeting_date", "agenda_item",
]
LIST_FIELDS = ["amounts_gbp", "posts", "people"]
# Where the label leaves these empty, the meeting's body/date is an accepted value.
MEETING_FALLBACK = {"decision_maker": "meeting_body", "decision_date": "meeting_date"}
FUZZY = {"title", "decision_maker", "decision_status", "meeting_body", "council"}
COUNCIL_NOISE = {"council", "county", "borough", "city", "district", "metropolitan",
                 "london", "royal", "of", "the", "and", "mbc", "cc", "bc"}


def norm(text) -> str:
    text = str(text).lower().replace("&", " and ")
    text = re.sub(r"[’'`]", "", text)
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def council_core(text) -> str:
    return " ".join(w for w in norm(text).split() if w not in COUNCIL_NOISE)


def same(field: str, got, want) -> bool:
    if field in ("is_key_decision", "is_subject_to_call_in"):
        return to_bool(got) == want
    if field == "council":
        return bool(council_core(got)) and council_core(got) == council_core(want)
    g, w = norm(got), norm(want)
    if g == w:
        return True
    if field in FUZZY:
        return difflib.SequenceMatcher(None, g, w).ratio() >= 0.9
    return False


def to_bool(value):
    if value is None:
        return None
    v = str(value).strip().lower()
    if v in ("true", "yes", "1", "y"):
        return True
    if v in ("false", "no", "0", "n"):
        return False
    return None


def blank(value) -> bool:
    return value is None or str(value).strip() == ""


def read_package(pkg_dir: Path) -> dict[str, list[dict]]:
    descriptor = json.loads((pkg_dir / "datapackage.json").read_text(encoding="utf-8"))
    tables: dict[str, list[dict]] = {}
    for res in descriptor.get("resources", []):
        path = res.get("path")
        if isinstance(path, list):
            path = path[0]
        if not path or not str(path).endswith(".csv"):
            continue
        with open(pkg_dir / path, newline="", encoding="utf-8") as fh:
            tables[res["name"]] = list(csv.DictReader(fh))
    missing = {"documents", "decisions", "meetings", "amounts", "posts", "people",
               "organisations"} - set(tables)
    if missing:
        sys.exit(f"package lacks resources: {sorted(missing)}")
    return tables


def first(rows, key):
    for row in rows:
        if not blank(row.get(key)):
            return row[key]
    return None


def extracted_for(doc: dict, t: dict) -> dict:
    did = doc["document_id"]
    decisions = [r for r in t["decisions"] if r.get("document_id") == did]
    meetings = [r for r in t["meetings"] if r.get("document_id") == did]
    orgs = {r.get("council_id"): r for r in t["organisations"]}
    council = orgs.get(doc.get("council_id"), {}).get("name")
    out = {
        "document_type": doc.get("document_type"),
        "council": council,
        "title": first(decisions, "title") or first(meetings, "item_title") or doc.get("title"),
        "meeting_body": first(meetings, "body"),
        "meeting_date": first(meetings, "meeting_date"),
        "agenda_item": first(meetings, "agenda_item"),
    }
    for f in ("reference", "decision_maker", "decision_status", "is_key_decision",
              "is_subject_to_call_in", "decision_date", "publication_date", "effective_from"):
        out[f] = first(decisions, f)
    amounts = set()
    for r in t["amounts"]:
        if r.get("document_id") == did and not blank(r.get("amount_gbp")):
            try:
                amounts.add(round(float(r["amount_gbp"]), 2))
            except ValueError:
                pass
    out["amounts_gbp"] = amounts
    posts = []
    for r in t["posts"]:
        if r.get("document_id") == did:
            fte = None if blank(r.get("fte")) else float(r["fte"])
            posts.append((norm(r.get("title", "")), fte))
    out["posts"] = posts
    out["people"] = {norm(r.get("name", "")) for r in t["people"]
                     if r.get("document_id") == did and not blank(r.get("name"))}
    return out


def match_posts(got: list, want: list) -> int:
    """Greedy one-to-one match: titles alike (ratio >= 0.85, plural-tolerant) and equal FTE."""
    free = list(got)
    hits = 0
    for w_title, w_fte in want:
        for i, (g_title, g_fte) in enumerate(free):
            alike = difflib.SequenceMatcher(None, g_title.rstrip("s"), w_title.rstrip("s")).ratio() >= 0.85
            if alike and (w_fte is None or (g_fte is not None and abs(g_fte - w_fte) < 1e-6)):
                hits += 1
                free.pop(i)
                break
    return hits


def match_people(got: set, want: set) -> int:
    hits = 0
    free = set(got)
    for w in want:
        hit = next((g for g in free if g == w or difflib.SequenceMatcher(None, g, w).ratio() >= 0.9), None)
        if hit:
            hits += 1
            free.discard(hit)
    return hits


def score(pkg_dir: Path, label_dir: Path, verbose: bool = False):
    t = read_package(pkg_dir)
    by_name = {}
    for doc in t["documents"]:
        by_name[Path(str(doc.get("source_path", "")).replace("\\", "/")).name] = doc
    counts = defaultdict(lambda: [0, 0, 0])  # tp, fp, fn
    problems = []
    for label_file in sorted(label_dir.glob("*.json")):
        if label_file.name.endswith(".meta.json"):
            continue
        stem = label_file.stem
        label = json.loads(label_file.read_text(encoding="utf-8"))
        doc = by_name.get(stem + ".txt")
        if doc is None:
            problems.append(f"{stem}: not in documents")
            for f in SCALAR_FIELDS:
                if label.get(f) is not None:
                    counts[f][2] += 1
            counts["amounts_gbp"][2] += len(label.get("amounts_gbp") or [])
            counts["posts"][2] += len(label.get("posts") or [])
            counts["people"][2] += len(label.get("people") or [])
            continue
        got = extracted_for(doc, t)
        for f in SCALAR_FIELDS:
            want, have = label.get(f), got.get(f)
            if f in ("is_key_decision", "is_subject_to_call_in"):
                have = to_bool(have)
            if blank(want) and blank(have):
                continue
            if blank(want) and not blank(have) and f in MEETING_FALLBACK \
                    and not blank(label.get(MEETING_FALLBACK[f])) and same(f, have, label[MEETING_FALLBACK[f]]):
                continue  # a decision taken at a meeting may take the meeting's body and date
            if blank(want):
                counts[f][1] += 1
                problems.append(f"{stem}.{f}: extra {have!r}")
            elif blank(have):
                counts[f][2] += 1
                problems.append(f"{stem}.{f}: missing {want!r}")
            elif same(f, have, want):
                counts[f][0] += 1
            else:
                counts[f][1] += 1
                counts[f][2] += 1
                problems.append(f"{stem}.{f}: got {have!r} want {want!r}")
        want_amounts = {round(float(a), 2) for a in label.get("amounts_gbp") or []}
        tp = len(want_amounts & got["amounts_gbp"])
        counts["amounts_gbp"][0] += tp
        counts["amounts_gbp"][1] += len(got["amounts_gbp"]) - tp
        counts["amounts_gbp"][2] += len(want_amounts) - tp
        if want_amounts != got["amounts_gbp"]:
            problems.append(f"{stem}.amounts_gbp: extra {sorted(got['amounts_gbp'] - want_amounts)} "
                            f"missing {sorted(want_amounts - got['amounts_gbp'])}")
        want_posts = [(norm(p.get("title") or ""), p.get("fte")) for p in label.get("posts") or []]
        tp = match_posts(got["posts"], want_posts)
        counts["posts"][0] += tp
        counts["posts"][1] += len(got["posts"]) - tp
        counts["posts"][2] += len(want_posts) - tp
        if tp != len(want_posts) or tp != len(got["posts"]):
            problems.append(f"{stem}.posts: matched {tp} of {len(want_posts)} labelled, {len(got['posts'])} extracted")
        want_people = {norm(p["name"]) for p in label.get("people") or [] if p.get("name")}
        tp = match_people(got["people"], want_people)
        counts["people"][0] += tp
        counts["people"][1] += len(got["people"]) - tp
        counts["people"][2] += len(want_people) - tp
        if tp != len(want_people) or tp != len(got["people"]):
            problems.append(f"{stem}.people: matched {tp} of {len(want_people)} labelled, {len(got['people'])} extracted")
    rows = []
    for f in SCALAR_FIELDS + LIST_FIELDS:
        tp, fp, fn = counts[f]
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        rows.append((f, tp, fp, fn, p, r, f1))
    macro = sum(r[-1] for r in rows) / len(rows)
    return rows, macro, problems


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 2:
        sys.exit(__doc__)
    pkg, labels = Path(args[0]), Path(args[1])
    rows, macro, problems = score(pkg, labels, "--verbose" in argv)
    if "--json" in argv:
        print(json.dumps({"fields": {r[0]: {"tp": r[1], "fp": r[2], "fn": r[3], "precision": round(r[4], 3),
                                             "recall": round(r[5], 3), "f1": round(r[6], 3)} for r in rows},
                          "macro_f1": round(macro, 3), "problems": problems}, indent=1))
        return
    if "--verbose" in argv:
        for line in problems:
            print("  " + line)
    print(f"{'field':24} {'tp':>4} {'fp':>4} {'fn':>4} {'prec':>6} {'rec':>6} {'f1':>6}")
    for f, tp, fp, fn, p, r, f1 in rows:
        print(f"{f:24} {tp:4d} {fp:4d} {fn:4d} {p:6.3f} {r:6.3f} {f1:6.3f}")
    print(f"macro F1 {macro:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
