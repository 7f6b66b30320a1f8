"""HTML and PDF input (files the tests build), sidecars, and bad input that must be quarantined."""
import hashlib
import json
from pathlib import Path

from fpdf import FPDF

from helpers import by_source, tables_for
from pipelines.ingest import html_to_text, normalise_text

MODERNGOV_HTML = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Decision - Kinship support</title>
<script>var x = "£999,999";</script><style>p{}</style></head><body>
<nav><ul><li>Home</li><li>Decisions</li></ul></nav>
<h1>Decision details</h1>
<h2>Kinship Support Service expansion</h2>
<p>Decision Maker: Cabinet Member for Children&nbsp;and Families</p>
<p>Decision status: Recommendations Approved</p>
<p>Is Key decision?: Yes</p><p>Is subject to call in?: Yes</p>
<h3>Decision:</h3>
<p>To approve investment of &pound;1.2m in 2024/25 and establish the following posts:</p>
<table><tr><th>Post</th><th>Grade</th><th>Cost</th><th>FTE</th><th>Total cost</th></tr>
<tr><td>Kinship Practitioner</td><td>Grade 8</td><td>£41,000</td><td>3</td><td>£123,000</td></tr>
<tr><td>Team Manager</td><td>Grade 11</td><td>£60,000</td><td>1</td><td>£60,000</td></tr></table>
<p>Contact: Jane Smith, Head of Kinship Care Email: jane.smith@devon.gov.uk Tel: 07700 900123</p>
<p>Publication date: 03/04/2024</p><p>Date of decision: 02/04/2024</p>
<p>Effective from: 11/04/2024</p></body></html>"""


def build_pdf(path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in ["Report of the Director of Children's Services", "EDGE OF CARE TEAM EXPANSION",
                 "Purpose of the Report", "1. This report seeks approval to spend GBP 300,000 a year.",
                 "Recommendation", "That Committee approves the posts in the table below."]:
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    with pdf.table(col_widths=(60, 40, 30, 20, 30)) as table:
        for row in [("Post", "Grade", "Cost", "FTE", "Total cost"),
                    ("Youth Worker", "NJE Grade 5", "GBP 32,835", "2", "GBP 65,670"),
                    ("Social Worker", "Hay Band B", "GBP 49,179", "1.5", "GBP 73,769")]:
            r = table.row()
            for cell in row:
                r.cell(cell)
    pdf.output(str(path))


def test_html_page_is_read_as_text_with_table_rows(tmp_path):
    text, title = html_to_text(MODERNGOV_HTML)
    assert title == "Decision - Kinship support"
    assert "var x" not in text
    assert "Kinship Practitioner\tGrade 8\t£41,000\t3\t£123,000" in normalise_text(text)
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "decision.html").write_text(MODERNGOV_HTML, encoding="utf-8")
    (raw / "decision.meta.json").write_text(json.dumps({"source_url": "https://democracy.devon.gov.uk/x"}))
    tables = tables_for(raw)
    doc = by_source(tables, "documents", "decision.html").iloc[0]
    assert (doc.media_type, doc.document_type, doc.council_id) == ("text/html", "decision_notice", "DEV")
    dec = by_source(tables, "decisions", "decision.html").iloc[0]
    assert dec.decision_maker == "Cabinet Member for Children and Families"
    assert (dec.title, dec.is_key_decision, dec.effective_from) == ("Kinship Support Service expansion", "true", "2024-04-11")
    amounts = by_source(tables, "amounts", "decision.html")
    assert "999999" not in set(amounts.amount_gbp)  # script text is not content
    assert {"1200000", "41000", "123000", "60000"} <= set(amounts.amount_gbp)
    assert amounts.set_index("amount_gbp").loc["1200000", "financial_year"] == "2024-25"
    posts = by_source(tables, "posts", "decision.html")
    assert posts[["title", "fte", "grade", "unit_cost_gbp"]].values.tolist() == [
        ["Kinship Practitioner", "3", "Grade 8", "41000"], ["Team Manager", "1", "Grade 11", "60000"]]
    people = by_source(tables, "people", "decision.html")
    assert people.name.tolist() == ["Jane Smith"]
    assert people.email.isna().all() and people.phone.isna().all()  # contact details off by default


def test_contact_details_setting_never_publishes_mobiles(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "decision.html").write_text(MODERNGOV_HTML, encoding="utf-8")
    (raw / "memo.txt").write_text("Decision details\n\nFoster carer fees\n\nDecision Maker: Cabinet\n\n"
                                  "Contact: Amy Jones, Service Manager Email: amy.jones@leeds.gov.uk Tel: 0113 378 5555\n")
    people = tables_for(raw, include_contact_details=True)["people"].set_index("name")
    assert people.loc["Jane Smith", "email"] == "jane.smith@devon.gov.uk"
    assert people.loc["Jane Smith", "phone"] is None  # 07700 ... is a mobile
    assert people.loc["Amy Jones", "phone"] == "0113 378 5555"


def test_pdf_text_layer_and_table(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    build_pdf(raw / "report.pdf")
    tables = tables_for(raw)
    doc = by_source(tables, "documents", "report.pdf").iloc[0]
    assert (doc.media_type, doc.document_type, doc.title) == ("application/pdf", "committee_report",
                                                                "EDGE OF CARE TEAM EXPANSION")
    posts = by_source(tables, "posts", "report.pdf")
    assert posts[["title", "fte", "grade"]].values.tolist() == [["Youth Worker", "2", "NJE Grade 5"],
                                                                  ["Social Worker", "1.5", "Hay Band B"]]
    assert {"300000", "32835", "65670", "49179", "73769"} <= set(by_source(tables, "amounts", "report.pdf").amount_gbp)


def _tree_digest(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_bad_inputs_are_quarantined_and_never_stop_the_run(raw_copy):
    bad = raw_copy / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.txt").write_bytes(b"\x00\x01\x02garbage\x00" * 50)
    (bad / "latin1.txt").write_bytes("Decision details\n\nCaf\xe9 funding of \xa3200".encode("latin-1"))
    (bad / "fake.pdf").write_bytes(b"this is not a pdf at all")
    (bad / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj garbage")
    (bad / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    (bad / "noise.txt").write_text("x7 qq9 zz 88 44 -- ++ 1234 5678 bcd fgh " * 3)
    (bad / "orphan.meta.json").write_text("{}")
    (bad / "dup.txt").write_bytes((raw_copy / "000_2fff08d3cebd029b.txt").read_bytes())
    before = _tree_digest(raw_copy)
    tables = tables_for(raw_copy)
    assert _tree_digest(raw_copy) == before  # raw/ is never modified
    reasons = dict(zip(tables["quarantine"].source_path, tables["quarantine"].reason))
    assert reasons == {"bad/empty.txt": "empty", "bad/binary.txt": "binary", "bad/latin1.txt": "undecodable",
                       "bad/fake.pdf": "unrecognisable", "bad/broken.pdf": "bad_pdf",
                       "bad/sheet.xlsx": "unsupported_type", "bad/noise.txt": "unrecognisable",
                       "bad/orphan.meta.json": "orphan_sidecar", "bad/dup.txt": "duplicate"}
    assert len(tables["documents"]) == 5  # every good document still publishes
    assert tables["quarantine"].detail.map(bool).all()


def test_oversized_file_is_quarantined(tmp_path):
    from pipelines.incremental import process_folder

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "big.txt").write_text("Decision details\n\n" + "Early help funding. " * 200)
    docs, quarantine, _ = process_folder(raw, max_bytes=1000)
    assert not docs and quarantine[0]["reason"] == "oversized"
