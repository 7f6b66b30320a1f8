"""Linked data: dumps in every release, stable URIs, SHACL, researcher queries, SPARQL endpoint, loading."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest
import rdflib
from rdflib.compare import isomorphic

from conftest import DEV, REPO, SEEDS, copy_documents
from helpers import tables_for
from pipelines import rdf
from pipelines.definitions import MAIN_JOB, build_definitions
from pipelines.resources import PipelineSettings
from pipelines.validate import graph_errors

BIN = Path(sys.executable).parent


def cli(*args, check=True):
    out = subprocess.run([str(BIN / "opendecisions"), *args], capture_output=True, text=True, cwd=REPO)
    if check:
        assert out.returncode == 0, out.stderr
    return out


@pytest.fixture(scope="module")
def sample_release(tmp_path_factory):
    """A release built from the seeds and the labelled dev corpus (with their sidecars)."""
    root = tmp_path_factory.mktemp("ld")
    raw = copy_documents(SEEDS, root / "raw")
    copy_documents(DEV, raw)
    cli("run", "--raw", str(raw), "--published", str(root / "published"))
    return root / "published", root / "published" / "council-decisions" / "latest"


def test_release_has_three_dumps_listed_in_the_package(sample_release):
    _, release = sample_release
    desc = json.loads((release / "datapackage.json").read_text())
    listed = {r["path"]: r for r in desc["resources"]}
    for name, media in rdf.GRAPH_FILES.items():
        assert (release / name).stat().st_size == listed[name]["bytes"] and listed[name]["mediatype"] == media
    nt_lines = (release / "graph.nt").read_text().splitlines()
    assert len(nt_lines) == len(set(nt_lines))  # no triple twice, though the dumps are streamed per document
    nt = rdflib.Graph().parse(release / "graph.nt", format="nt")
    assert isomorphic(nt, rdflib.Graph().parse(release / "graph.ttl", format="turtle"))
    assert isomorphic(nt, rdflib.Graph().parse(release / "graph.jsonld", format="json-ld"))
    assert json.loads((release / "context.jsonld").read_text())["@context"]["org"] == "http://www.w3.org/ns/org#"
    assert '"^^<http://www.w3.org/2001/XMLSchema#dateTime>' in (release / "graph.nt").read_text()
    assert "Z\"^^<http://www.w3.org/2001/XMLSchema#dateTime>" in (release / "graph.nt").read_text()


def test_councils_link_to_ons_and_uris_come_from_keys(sample_release):
    _, release = sample_release
    g = rdflib.Graph().parse(release / "graph.nt", format="nt")
    notts = rdflib.URIRef("https://opendecisions.uk/id/organisation/NTT")
    assert (notts, rdflib.OWL.sameAs,
            rdflib.URIRef("http://statistics.data.gov.uk/id/statistical-geography/E10000024")) in g
    assert (notts, rdflib.RDF.type, rdflib.URIRef("http://www.w3.org/ns/org#Organization")) in g
    prov = rdflib.Namespace("http://www.w3.org/ns/prov#")
    assert len(list(g.subjects(rdflib.RDF.type, prov.Activity))) == 1
    decisions = list(g.subjects(rdflib.RDF.type, rdflib.URIRef("https://opendecisions.uk/def/Decision")))
    assert decisions and all(str(d).startswith("https://opendecisions.uk/id/decision/doc-") for d in decisions)
    assert all(g.value(d, prov.wasDerivedFrom) is not None for d in decisions)


def test_base_uri_is_a_setting():
    tables = tables_for(REPO / "raw")
    lines = rdf.graph_lines(tables, "http://example.org/base/")
    assert any(line.startswith("<http://example.org/base/decision/doc-") for line in lines)
    assert not any("opendecisions.uk/id/" in line for line in lines)


def test_shacl_passes_on_sample_and_names_what_is_broken():
    lines = rdf.graph_lines(tables_for(REPO / "raw"), rdf.UriMinter("https://opendecisions.uk/id/").base)
    assert graph_errors(rdf.nt_bytes(lines)) == []
    broken = [line for line in lines if "schema.org/currency" not in line]
    broken.append('<https://opendecisions.uk/id/amount/x> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> '
                  '<https://schema.org/MonetaryAmount> .')
    errors = graph_errors(rdf.nt_bytes(broken), limit=1000)
    assert errors and any("currency" in e for e in errors)
    assert any(e.startswith("https://opendecisions.uk/id/amount/x ") and "wasDerivedFrom" in e for e in errors)


def test_broken_graph_blocks_publishing(raw_copy, tmp_path, monkeypatch):
    real = rdf.fragment_of
    monkeypatch.setattr(rdf, "fragment_of", lambda lines, shared=(): real(
        [line for line in lines if "schema.org/value" not in line], shared))
    settings = PipelineSettings(raw_dir=str(raw_copy), published_dir=str(tmp_path / "pub"))
    result = build_definitions(settings).resolve_job_def(MAIN_JOB).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    failed = [c for c in result.get_asset_check_evaluations() if not c.passed]
    assert [c.check_name for c in failed] == ["graph_conforms_to_shapes"]
    assert "value" in failed[0].metadata["first_violations"].value
    assert not (tmp_path / "pub" / "council-decisions" / "latest").exists()


def query_csv(published, name):
    out = cli("query", str(REPO / "queries" / name), "--format", "csv", "--published", str(published))
    import csv, io
    return list(csv.DictReader(io.StringIO(out.stdout)))


def test_money_committed_per_council_and_year(sample_release):
    rows = {(r["council"], r["financial_year"]): float(r["total_gbp"])
            for r in query_csv(sample_release[0], "money_committed_by_council_and_year.rq")}
    assert rows[("Herefordshire Council", "2019-20")] == 184000
    assert rows[("London Borough of Croydon", "2025-26")] == 1712000
    assert rows[("Nottinghamshire County Council", "2022-23")] == 225818


def test_posts_by_grade(sample_release):
    rows = {(r["grade"], r["post"]): float(r["total_fte"]) for r in query_csv(sample_release[0], "posts_by_grade.rq")}
    assert rows[("Hay Band D", "Team Manager")] == 1.5
    assert rows[("Grade 7", "Family Lead Practitioner")] == 7
    assert rows[("Hay Band A", "Social Work Apprentice")] == 10


def test_key_decisions_and_call_in(sample_release):
    rows = query_csv(sample_release[0], "key_decisions_call_in.rq")
    got = {r["title"]: r["subject_to_call_in"] for r in rows}
    assert got == {"Family Hubs Year 4 Grant": "true", "Corporate Parenting Strategy 2019-2021": "false",
                   "OPTIONS FOR A REMODELLED YOUTH OFFENDING SERVICE": "true",
                   "Children and Young People - Residential Options": "", "": "false"}


def test_amounts_with_sentence_and_source(sample_release):
    rows = query_csv(sample_release[0], "amounts_with_sources.rq")
    values = [float(r["value"]) for r in rows]
    assert rows and values == sorted(values, reverse=True) and min(values) >= 1_000_000
    assert all(r["as_written"] in r["context"] and len(r["sha256"]) == 64 and r["source_path"] for r in rows)
    croydon = [r for r in rows if r["value"] == "1712000"][0]
    assert croydon["source_url"] == "https://democracy.croydon.gov.uk/ieDecisionDetails.aspx?ID=2447"


def test_decisions_per_topic(sample_release):
    rows = {r["topic"]: int(r["decisions"]) for r in query_csv(sample_release[0], "decisions_per_topic.rq")}
    assert rows == {"Other": 8, "Looked-after children": 5, "Early help": 3, "Workforce": 3, "SEND and SEMH": 2,
                    "Safeguarding": 2, "Edge of care": 1}


def test_officer_activity(sample_release):
    rows = query_csv(sample_release[0], "officer_activity.rq")
    assert [(r["name"], r["role"], r["source_path"]) for r in rows] == [
        ("Lucy Peel", "Service Director, Transformation & Improvement", "002_1aa6b9cdb0032174.txt")]


def test_query_command_formats_and_errors(sample_release):
    published = str(sample_release[0])
    q = "SELECT (COUNT(?d) AS ?n) WHERE { ?d a od:Decision }"
    as_json = json.loads(cli("query", q, "--format", "json", "--published", published).stdout)
    n = int(as_json["results"]["bindings"][0]["n"]["value"])
    assert n >= 15
    assert f"│ {n} " in cli("query", q, "--published", published).stdout
    bad = cli("query", "SELEKT nonsense", "--published", published, check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("error: SPARQL syntax error")
    upd = cli("query", "INSERT DATA { <http://a> <http://b> <http://c> }", "--published", published, check=False)
    assert upd.returncode == 2 and "read-only" in upd.stderr
    none = cli("query", q, "--published", "/nonexistent-folder", check=False)
    assert none.returncode == 2 and "no release found" in none.stderr


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url, proc, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, "server exited early"
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except Exception:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not come up")


@pytest.fixture(params=["on-disk", "in-memory"])
def endpoint(sample_release, request):
    port = _free_port()
    proc = subprocess.Popen([str(BIN / "opendecisions"), "serve", "--port", str(port), "--published",
                             str(sample_release[0]), "--timeout", "2", "--max-rows", "50"]
                            + (["--in-memory"] if request.param == "in-memory" else []),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_http(f"http://127.0.0.1:{port}/", proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def test_sparqlwrapper_gets_all_four_result_formats(endpoint):
    from SPARQLWrapper import CSV, JSON, TSV, XML, SPARQLWrapper

    query = ("PREFIX org: <http://www.w3.org/ns/org#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
             "SELECT ?name WHERE { ?o a org:Organization ; skos:prefLabel ?name } ORDER BY ?name")
    client = SPARQLWrapper(f"{endpoint}/sparql")
    client.setQuery(query)
    client.setReturnFormat(JSON)
    names = [b["name"]["value"] for b in client.query().convert()["results"]["bindings"]]
    assert "Nottinghamshire County Council" in names and len(names) >= 15
    client.setReturnFormat(XML)
    xml_names = [n.firstChild.data for n in client.query().convert().getElementsByTagName("literal")]
    assert xml_names == names
    client.setReturnFormat(CSV)
    assert client.query().convert().decode().splitlines()[1:] == [f'"{n}"' if "," in n else n for n in names]
    client.setReturnFormat(TSV)
    assert client.query().convert().decode().splitlines()[1] == f'"{names[0]}"'
    client.setMethod("POST")
    client.setReturnFormat(JSON)
    assert [b["name"]["value"] for b in client.query().convert()["results"]["bindings"]] == names


def test_construct_as_turtle_and_jsonld(endpoint):
    from SPARQLWrapper import TURTLE, SPARQLWrapper

    client = SPARQLWrapper(f"{endpoint}/sparql")
    client.setQuery("CONSTRUCT { ?o ?p ?v } WHERE { ?o a <http://www.w3.org/ns/org#Organization> ; ?p ?v } ")
    client.setReturnFormat(TURTLE)
    turtle = client.query().convert()
    g = rdflib.Graph().parse(data=turtle, format="turtle")
    assert len(g) > 20
    req = urllib.request.Request(f"{endpoint}/sparql", data=client.queryString.encode(),
                                 headers={"Content-Type": "application/sparql-query", "Accept": "application/ld+json"})
    assert isomorphic(rdflib.Graph().parse(data=urllib.request.urlopen(req).read(), format="json-ld"), g)


def test_updates_refused_and_limits(endpoint, sample_release):
    from SPARQLWrapper import POST, SPARQLWrapper
    from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

    before = (sample_release[1] / "graph.nt").read_bytes()
    client = SPARQLWrapper(f"{endpoint}/sparql")
    client.setMethod(POST)
    client.setQuery("INSERT DATA { <http://example.org/a> <http://example.org/b> <http://example.org/c> }")
    with pytest.raises((SPARQLWrapperException, urllib.error.HTTPError)) as exc:
        client.query()
    assert "403" in str(exc.value) or "read-only" in str(exc.value)
    ask = urllib.request.urlopen(f"{endpoint}/sparql?query=" + urllib.parse.quote(
        "ASK { <http://example.org/a> ?p ?o }"))
    assert json.loads(ask.read())["boolean"] is False and (sample_release[1] / "graph.nt").read_bytes() == before
    capped = urllib.request.urlopen(f"{endpoint}/sparql?query=" + urllib.parse.quote("SELECT * WHERE { ?s ?p ?o }"))
    assert capped.headers["X-Result-Truncated"] == "true"
    assert len(json.loads(capped.read())["results"]["bindings"]) == 50
    started = time.time()
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{endpoint}/sparql?query=" + urllib.parse.quote(slow))
    assert err.value.code == 503 and b"time limit" in err.value.read() and time.time() - started < 10
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/sparql", data=("#" * 30000).encode(),
                                                      headers={"Content-Type": "application/sparql-query"}))
    assert err.value.code == 413
    page = urllib.request.urlopen(f"{endpoint}/").read().decode()
    assert "<textarea" in page and "money committed by council and year" in page
    assert "<script src" not in page and "<link" not in page  # self-contained: no CDN


def test_load_into_a_graph_store(sample_release, tmp_path):
    oxigraph = shutil.which("oxigraph", path=str(BIN)) or shutil.which("oxigraph")
    assert oxigraph, "oxigraph server (dev dependency) is not installed"
    port = _free_port()
    proc = subprocess.Popen([oxigraph, "serve", "--location", str(tmp_path / "store"), "--bind", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_http(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", proc)
        out = cli("load", "--store", f"http://127.0.0.1:{port}/store", "--published", str(sample_release[0]))
        version = sample_release[1].resolve().name
        graph = f"https://opendecisions.uk/id/release/{version}"
        assert f"<{graph}>" in out.stdout
        q = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        req = urllib.request.Request(f"http://127.0.0.1:{port}/query?query=" + urllib.parse.quote(q),
                                     headers={"Accept": "application/sparql-results+json"})
        n = int(json.loads(urllib.request.urlopen(req).read())["results"]["bindings"][0]["n"]["value"])
        assert n == len((sample_release[1] / "graph.nt").read_text().splitlines())
        cli("load", "--store", f"http://127.0.0.1:{port}/store", "--published", str(sample_release[0]))
        assert int(json.loads(urllib.request.urlopen(req).read())["results"]["bindings"][0]["n"]["value"]) == n
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    bad = cli("load", "--store", f"http://127.0.0.1:{port}/store", "--published", str(sample_release[0]), check=False)
    assert bad.returncode == 2 and "cannot reach the store" in bad.stderr


def test_fast_shacl_gives_pyshacl_verdicts_on_planted_errors():
    from pipelines import shacl

    lines = rdf.graph_lines(tables_for(REPO / "raw"), "https://opendecisions.uk/id/")
    planted = [l for l in lines if "schema.org/currency" not in l and "/skos/core#prefLabel" not in l]
    planted += ['<https://x/a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://schema.org/MonetaryAmount> .',
                '<https://x/a> <https://schema.org/value> "abc" .',
                '<https://x/a> <https://schema.org/value> "-5"^^<http://www.w3.org/2001/XMLSchema#decimal> .',
                '<https://x/d> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://opendecisions.uk/def/Decision> .',
                '<https://x/d> <http://purl.org/dc/terms/date> "2020-01-01" .',
                '<https://x/d> <https://opendecisions.uk/def/takenAt> <https://x/nowhere> .']
    nt = rdf.nt_bytes(planted)
    fast = {(focus, path) for focus, path, _ in shacl.violations(nt)}
    reference = {tuple(e.split(": ")[0].rsplit(" ", 1)) for e in graph_errors(nt, limit=100000)}
    assert fast == reference and len(fast) > 50
    assert shacl.violations(rdf.nt_bytes(lines)) == []
