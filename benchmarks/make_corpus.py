"""Make a realistic synthetic corpus of council decision documents for benchmarks.

Usage: python benchmarks/make_corpus.py N OUT [--seed 7] [--html-share 0.1] [--bad-share 0.01]

Documents follow the four layouts of the seeds (ModernGov decision notices, issue-meetings
pages, committee reports with post lists and tab-separated cost tables, minutes/agenda items),
with councils drawn from the register (and a sidecar with a source URL on each council site),
amounts, posts, dates, officers and lengths varied like the labelled corpus. A share are saved as
HTML pages, and a share are bad files (empty, binary, undecodable). Deterministic for a seed.
"""
from __future__ import annotations

import argparse
import csv
import html
import json
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGISTER = ROOT / "pipelines" / "data" / "uk_local_authorities" / "uk_local_authorities.csv"
GIVEN = ["Lucy", "Richard", "Tara", "Pauline", "Kerry", "Chris", "Steve", "Graham", "Annette", "Jonathan", "Jane",
         "Adam", "Robert", "John", "Paul", "Sarah", "David", "Helen", "Mark", "Claire", "James", "Emma", "Peter",
         "Rachel", "Andrew", "Karen", "Simon", "Joanne", "Michael", "Louise", "Gareth", "Nadia", "Priya", "Tom"]
FAMILY = ["Butler", "Watson", "Peel", "Pasque", "Armour", "Crichlow", "Caley", "Comb", "Mallory", "McNeil",
          "Fisher", "Levy", "Gordon", "Wood", "Maslin", "Hughes", "Patel", "Khan", "Evans", "Roberts", "Clarke",
          "Turner", "Walker", "Wright", "Green", "Hall", "Lewis", "Harris", "Young", "Allen", "Mitchell"]
ROLES = ["Director of Children's Services", "Head of Early Help", "Service Manager, Edge of Care",
         "Assistant Director for Safeguarding and Family Support", "Senior Commissioning Manager",
         "Programme Manager, Family Safeguarding", "Head of Service, Kinship Care", "Finance Business Partner"]
TOPICS = [("Early Help", "early help and family support services"), ("Edge of Care", "an edge of care service"),
          ("Kinship Care", "a kinship support service"), ("Family Safeguarding", "the family safeguarding model"),
          ("Social Work Recruitment", "recruitment and retention of social workers"),
          ("SEND Support", "support for children with SEND and SEMH needs"),
          ("Children in Care", "placements for looked after children")]
POSTS = [("Family Lead Practitioner", "Grade 7"), ("Social Worker", "Hay Band B"), ("Team Manager", "Hay Band D"),
         ("Youth Worker", "JNC Qualified point 20-23"), ("Parent and Family Worker", "NJE Grade 5"),
         ("Kinship Practitioner", "NJE Grade 5"), ("Social Work Apprentice", "Hay Band A"),
         ("Business Support Officer", "Grade 4"), ("Early Help Coordinator", "Grade 8"),
         ("Project Officer", "Hay Band A")]
MAKERS = ["Cabinet", "Cabinet Member for Children and Families", "Director of Children's Services", "Executive",
          "Lead Member for Children's Services"]
BODIES = ["Cabinet", "Children and Young People's Committee", "Executive", "Children's Services Scrutiny Panel"]
FILLER = ("The service has seen rising demand over the last three years and partners have asked for a more "
          "joined-up offer for families. Evidence from other local authorities shows that earlier support "
          "reduces escalation to statutory services and improves outcomes for children and young people. ")


def councils():
    with open(REGISTER, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["current-authority"] == "True" and r["nation"] == "England"]
    return [(r["official-name"], re.sub(r"[^a-z]", "", r["nice-name"].lower())) for r in rows]


def d(rng: random.Random, year=None) -> tuple[int, int, int]:
    return rng.randint(1, 28), rng.randint(1, 12), year or rng.randint(2015, 2025)


def uk(date) -> str:
    return f"{date[0]:02d}/{date[1]:02d}/{date[2]}"


def money(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.4:
        return f"£{rng.randint(5, 900) * 1000:,}"
    if kind < 0.6:
        return f"£{rng.randint(20, 950)}k"
    if kind < 0.8:
        return f"£{rng.randint(1, 40) / 10:g}m"
    if kind < 0.9:
        return f"£{rng.randint(1, 5)} million"
    return f"£{rng.randint(10000, 99999):,}"


def person(rng):
    return f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"


def paragraphs(rng, n):
    return "\n\n".join(FILLER * rng.randint(1, 3) for _ in range(n))


def decision_notice(rng, council, domain, i):
    topic, phrase = rng.choice(TOPICS)
    dec, pub = d(rng), None
    pub = (dec[0], dec[1], dec[2])
    posts = "\n".join(f"• {rng.randint(1, 6)} FTE {p}s ({g}) temporary for {rng.choice([6, 12, 18, 24])} months"
                      for p, g in rng.sample(POSTS, rng.randint(0, 3)))
    name = person(rng)
    text = f"""Decision details

{topic}: {rng.choice(['Investment in', 'Expansion of', 'Mobilisation of', 'Review of'])} {phrase}

Decision Maker: {rng.choice(MAKERS)}

Decision status: Recommendations Approved

Is Key decision?: {rng.choice(['Yes', 'No'])}

Is subject to call in?: {rng.choice(['Yes', 'No'])}

Purpose:

To approve investment of up to {money(rng)} in {dec[2]}-{dec[2] + 1} for {phrase}.

{paragraphs(rng, rng.randint(1, 4))}

{('This decision seeks to establish the following posts:' + chr(10) + posts) if posts else ''}

Decision:

Allocate funding of {money(rng)} from the {topic} budget for {dec[2]}/{str(dec[2] + 1)[2:]}.

Alternative options considered:

Do nothing. This would leave families without support.

Contact: {name}, {rng.choice(ROLES)} Email: {name.lower().replace(' ', '.')}@{domain}.gov.uk

Publication date: {uk(pub)}

Date of decision: {uk(dec)}

Effective from: {uk(d(rng, dec[2]))}

Accompanying Documents:
"""
    return text, f"https://democracy.{domain}.gov.uk/ieDecisionDetails.aspx?ID={i}"


def issue_meetings(rng, council, domain, i):
    topic, phrase = rng.choice(TOPICS)
    date, item = d(rng), rng.randint(5, 160)
    lines = "\n\n".join(f"{chr(97 + k)}. {money(rng)} into {phrase} to increase staffing;" for k in range(rng.randint(1, 4)))
    return f"""Issue - meetings

{topic} proposals

Meeting: {uk(date)} - {rng.choice(BODIES)} (Item {item})

{item} {topic} proposals pdf icon PDF {rng.randint(100, 900)} KB

Contact: {person(rng)}, {rng.choice(ROLES)} Tel: 01{rng.randint(100, 999)} {rng.randint(100000, 999999)}

Report by the Director for Children's Services.

{paragraphs(rng, rng.randint(1, 3))}

It is proposed to allocate the money as follows:

{lines}

Decision:

Recommendations agreed.
""", f"https://democracy.{domain}.gov.uk/ieIssueDetails.aspx?IId={i}&Opt=3"


def committee_report(rng, council, domain, i):
    topic, phrase = rng.choice(TOPICS)
    date = d(rng)
    chosen = rng.sample(POSTS, rng.randint(1, 5))
    listed = "\n".join(f" - {rng.choice([0.5, 1, 2, 3, 5])} FTE {p}s ({g})" for p, g in chosen)
    rows = []
    total = 0
    for p, g in chosen:
        cost = rng.randint(25, 65) * 1000 + rng.randint(0, 999)
        fte = rng.choice([1, 2, 3])
        total += cost * fte
        rows.append(f"{p}\t{g}\t£{cost:,}\t{fte}\t£{cost * fte:,}")
    table = "Post\tGrade/Band\tCost\tFTE\tTotal cost\n" + "\n".join(rows) + f"\n\t\t\t\t£{total:,}"
    author = person(rng)
    return f"""{date[0]} {['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'][date[1] - 1]} {date[2]}

Agenda Item: {rng.randint(3, 20)}

REPORT OF THE SERVICE DIRECTOR, CHILDREN AND FAMILIES

{topic.upper()} PROGRESS REPORT

Purpose of the Report

1. The purpose of this report is to seek approval of the following:
{listed}

Information

{paragraphs(rng, rng.randint(2, 8))}

Posts to be established:

{table}

Financial Implications

2. The total cost of {money(rng)} will be contained within the {date[2]}/{str(date[2] + 1)[2:]} budget of {money(rng)}.

{author}
{rng.choice(ROLES)}

Constitutional Comments

3. {rng.choice(BODIES)} is the appropriate body to consider the content of the report.

{council}
""", f"https://www.{domain}.gov.uk/reports/{i}"


def minutes(rng, council, domain, i):
    a, b = person(rng), person(rng)
    return f"""Agenda item

{rng.choice(TOPICS)[0]}

Minutes:

6.1 {a}, {rng.choice(ROLES)} and {b}, {rng.choice(ROLES)}, presented the paper. The chair then invited questions.

6.2 A member asked about the resources involved. The officer responded that preventing a child going into care can save a quarter of a million pounds a year.

{paragraphs(rng, rng.randint(1, 4))}

6.3 It was noted that it cost a secondary school around {money(rng)} to purchase traded services.

Supporting documents:
""", f"https://democracy.{domain}.gov.uk/mgAi.aspx?ID={i}"


LAYOUTS = [decision_notice, issue_meetings, committee_report, minutes]


def as_html(text: str, title: str) -> str:
    body = []
    for block in text.split("\n\n"):
        if "\t" in block:
            rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in line.split("\t")) + "</tr>"
                           for line in block.split("\n"))
            body.append(f"<table>{rows}</table>")
        else:
            body.append("<p>" + "<br>".join(html.escape(line) for line in block.split("\n")) + "</p>")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<script>var tracking = 1;</script></head><body><nav><ul><li>Home</li><li>Meetings</li></ul></nav>"
            f"<div class='mgContent'>{''.join(body)}</div></body></html>")


def bad_file(rng) -> tuple[str, bytes]:
    kind = rng.choice(["empty", "binary", "latin1"])
    if kind == "empty":
        return ".txt", b""
    if kind == "binary":
        return ".txt", bytes(rng.randrange(256) for _ in range(512)) + b"\x00"
    return ".txt", "Decision details\n\nCaf\xe9 funding of \xa3200 for early help".encode("latin-1")


def make(n: int, out: Path, seed: int = 7, html_share: float = 0.1, bad_share: float = 0.01) -> dict:
    rng = random.Random(seed)
    pool = councils()
    out.mkdir(parents=True, exist_ok=True)
    counts = {"text": 0, "html": 0, "bad": 0}
    for i in range(n):
        folder = out / f"batch{i // 1000:04d}"
        folder.mkdir(exist_ok=True)
        stem = f"doc{i:07d}"
        if rng.random() < bad_share:
            suffix, data = bad_file(rng)
            (folder / f"{stem}{suffix}").write_bytes(data)
            counts["bad"] += 1
            continue
        council, domain = rng.choice(pool)
        text, url = rng.choice(LAYOUTS)(rng, council, domain, i)
        text = re.sub(r"\n{3,}", "\n\n", text)
        if rng.random() < html_share:
            (folder / f"{stem}.html").write_text(as_html(text, text.split("\n", 3)[2] if "\n" in text else stem),
                                                 encoding="utf-8")
            counts["html"] += 1
        else:
            (folder / f"{stem}.txt").write_text(text, encoding="utf-8")
            counts["text"] += 1
        (folder / f"{stem}.meta.json").write_text(json.dumps({"source_url": url}), encoding="utf-8")
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--html-share", type=float, default=0.1)
    parser.add_argument("--bad-share", type=float, default=0.01)
    args = parser.parse_args()
    print(json.dumps(make(args.n, args.out, args.seed, args.html_share, args.bad_share)))


if __name__ == "__main__":
    main()
