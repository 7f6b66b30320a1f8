"""Extraction on the five seed documents (four layouts) and the labelled dev corpus."""
import json
import subprocess
import sys

import pytest

from helpers import by_source, tables_for
from conftest import DEV, SCORER, SEEDS, copy_documents

from pipelines.publish import publish_package


@pytest.fixture(scope="module")
def seed_tables(tmp_path_factory):
    return tables_for(copy_documents(SEEDS, tmp_path_factory.mktemp("seeds")))


def label(stem):
    return json.loads((SEEDS / f"{stem}.json").read_text(encoding="utf-8"))


def test_decision_notice_label_value_pairs_and_bullet_posts(seed_tables):
    dec = by_source(seed_tables, "decisions", "000_2fff08d3cebd029b.txt").iloc[0]
    assert dec.reference == "LOCYP 2021042"
    assert dec.title.startswith("Temporary additional staffing")
    assert dec.decision_maker == "Director of Learning, Opportunities and Skills"
    assert (dec.is_key_decision, dec.is_subject_to_call_in) == ("false", "false")
    assert (dec.decision_date, dec.publication_date) == ("2021-03-11", "2021-06-11")
    posts = by_source(seed_tables, "posts", "000_2fff08d3cebd029b.txt")
    flp = posts[posts.title == "Family Lead Practitioner"].iloc[0]
    assert (flp.fte, flp.grade, flp.temporary, flp.duration_months) == ("7", "Grade 7", "true", "12")
    assert len(posts) == 2  # the decision text repeats the posts in prose: not counted twice
    assert by_source(seed_tables, "amounts", "000_2fff08d3cebd029b.txt").amount_gbp.tolist() == ["216000"]
    assert by_source(seed_tables, "documents", "000_2fff08d3cebd029b.txt").council_id.isna().all()


def test_council_from_email_and_contact_person(seed_tables):
    doc = by_source(seed_tables, "documents", "001_881d09898dfdc202.txt").iloc[0]
    assert (doc.council_id, doc.council_basis) == ("HEF", "email_domain")
    dec = by_source(seed_tables, "decisions", "001_881d09898dfdc202.txt").iloc[0]
    assert dec.effective_from == "2020-01-04" and dec.is_subject_to_call_in == "true"
    people = by_source(seed_tables, "people", "001_881d09898dfdc202.txt")
    assert people[["name", "role"]].values.tolist() == [["Richard Watson", "Senior Commissioning Manager - All age disability"]]


def test_committee_report_tables_and_money_forms(seed_tables):
    stem = "002_1aa6b9cdb0032174.txt"
    amounts = set(by_source(seed_tables, "amounts", stem).amount_gbp.astype(float))
    assert amounts == {float(a) for a in label("002_1aa6b9cdb0032174")["amounts_gbp"]}
    assert 51845000.0 in amounts  # '£51.845m'
    posts = by_source(seed_tables, "posts", stem)
    assert len(posts) == 10
    team = posts[(posts.title == "Team Manager") & (posts.fte == "0.5")].iloc[0]
    assert (team.grade, team.unit_cost_gbp, team.total_cost_gbp) == ("Hay Band D", "55217", "27609")
    meeting = by_source(seed_tables, "meetings", stem).iloc[0]
    assert (meeting.body, meeting.meeting_date, meeting.agenda_item) == (
        "Children and Young People's Committee", "2022-03-07", "11")
    doc = by_source(seed_tables, "documents", stem).iloc[0]
    assert doc.council_id == "NTT"  # e-mail domain beats a second council named in the text


def test_issue_meetings_page(seed_tables):
    stem = "003_cb9c8b43a6eb50ea.txt"
    meeting = by_source(seed_tables, "meetings", stem).iloc[0]
    assert (meeting.body, meeting.meeting_date, meeting.agenda_item) == ("Cabinet", "2016-05-24", "42")
    dec = by_source(seed_tables, "decisions", stem).iloc[0]
    assert (dec.reference, dec.decision_status, dec.decision_date) == ("2016/029", "Recommendations agreed", "2016-05-24")
    assert by_source(seed_tables, "documents", stem).council_id.isna().all()  # a phone code is not evidence


def test_minutes_paragraphs_people_and_worded_money(seed_tables):
    stem = "004_aa5c7dbf37f1ceff.txt"
    people = by_source(seed_tables, "people", stem)
    assert set(people.name) == {"Pauline Armour", "Kerry Crichlow"}
    assert people.set_index("name").loc["Pauline Armour", "role"] == "Head of Service, Early Help (interim)"
    amounts = by_source(seed_tables, "amounts", stem)
    assert set(amounts.amount_gbp) == {"20000", "250000"}  # 'a quarter a million pounds'
    assert by_source(seed_tables, "documents", stem).document_type.iloc[0] == "agenda_item"


def _score(package_dir, label_dir):
    out = subprocess.run([sys.executable, str(SCORER), str(package_dir), str(label_dir), "--json"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize("label_dir,target", [(SEEDS, 0.95), (DEV, 0.90)], ids=["seeds", "dev"])
def test_extraction_score_meets_target(tmp_path, label_dir, target):
    tables = tables_for(copy_documents(label_dir, tmp_path / "raw"))
    result = publish_package(tables, tmp_path / "published")
    score = _score(result.path, label_dir)
    assert score["macro_f1"] >= target, score["problems"]
