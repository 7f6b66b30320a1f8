"""Versioned, immutable releases: changelogs, semantic versions, atomicity, reproducibility,
the DCAT catalog, the schedule and sensor, and the release report."""
import filecmp
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from conftest import DEV, REPO
from pipelines.catalog import catalog_errors
from pipelines.definitions import MAIN_JOB, build_definitions
from pipelines.resources import PipelineSettings
from pipelines.validate import frictionless_package_errors

BIN = Path(sys.executable).parent


def run(raw, published, env=None):
    out = subprocess.run([str(BIN / "opendecisions"), "run", "--raw", str(raw), "--published", str(published)],
                         capture_output=True, text=True, cwd=REPO, env={**os.environ, **(env or {})})
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def latest(published):
    return (published / "council-decisions" / "latest").resolve()


def changes(published):
    return json.loads((latest(published) / "changes.json").read_text())


def table(release, name):
    return pd.read_csv(release / f"{name}.csv", dtype=str, keep_default_na=False)


@pytest.fixture
def published(tmp_path):
    return tmp_path / "published"


def test_adding_a_document_gives_minor_release_listing_exactly_its_records(raw_copy, published):
    run(raw_copy, published)
    shutil.copy(DEV / "croydon_decision_01.txt", raw_copy / "croydon_decision_01.txt")
    shutil.copy(DEV / "croydon_decision_01.meta.json", raw_copy / "croydon_decision_01.meta.json")
    out = run(raw_copy, published)
    assert "published release 0.2.0" in out
    release = latest(published)
    docs = table(release, "documents")
    new_id = docs.loc[docs.source_path == "croydon_decision_01.txt", "document_id"].item()
    ch = changes(published)
    assert ch["version"] == "0.2.0" and ch["previous_version"] == "0.1.0"
    for name, key in [("documents", "document_id"), ("decisions", "decision_id"), ("amounts", "amount_id"),
                      ("meetings", "meeting_id"), ("posts", "post_id"), ("people", "person_id")]:
        t = table(release, name)
        expected = sorted(t.loc[t.document_id == new_id, key]) if name != "documents" else [new_id]
        assert ch["changes"][name] == {"added": expected, "removed": [], "changed": []}, name
    assert ch["changes"]["organisations"]["added"] == ["CRY"]
    assert "croydon" not in (published / "council-decisions" / "0.1.0" / "documents.csv").read_text()


def test_editing_an_amount_gives_patch_release_with_old_and_new_value(raw_copy, published):
    run(raw_copy, published)
    doc = raw_copy / "000_2fff08d3cebd029b.txt"
    os.chmod(doc, 0o644)
    doc.write_text(doc.read_text(encoding="utf-8").replace("£216k", "£261k"), encoding="utf-8")
    out = run(raw_copy, published)
    assert "published release 0.1.1" in out
    ch = changes(published)
    changed = ch["changes"]["amounts"]["changed"]
    assert len(changed) == 1 and changed[0]["fields"]["amount_gbp"] == {"old": "216000", "new": "261000"}
    assert changed[0]["fields"]["text_as_written"] == {"old": "£216k", "new": "£261k"}
    assert all(not d["added"] and not d["removed"] for d in ch["changes"].values())
    md = (latest(published) / "CHANGELOG.md").read_text()
    assert "amount_gbp: `216000` → `261000`" in md


def test_removing_a_document_withdraws_its_records_with_a_changelog_entry(raw_copy, published):
    run(raw_copy, published)
    before = table(latest(published), "amounts")
    (raw_copy / "001_881d09898dfdc202.txt").unlink()
    run(raw_copy, published)
    ch = changes(published)
    assert ch["version"] == "0.2.0"
    [withdrawn] = ch["withdrawn_documents"]
    assert withdrawn["source_path"] == "001_881d09898dfdc202.txt" and "no longer in the raw folder" in withdrawn["reason"]
    gone = sorted(before.loc[before.document_id == withdrawn["document_id"], "amount_id"])
    assert gone and ch["changes"]["amounts"]["removed"] == gone
    assert "## Withdrawn documents" in (latest(published) / "CHANGELOG.md").read_text()
    assert (published / "council-decisions" / "0.1.0" / "amounts.csv").exists()  # old release untouched


def test_a_run_killed_mid_publish_leaves_latest_intact(raw_copy, published):
    run(raw_copy, published)
    good = latest(published)
    digest = {p.name: p.read_bytes() for p in good.iterdir()}
    (raw_copy / "000_2fff08d3cebd029b.txt").unlink()
    script = textwrap.dedent(f"""
        import os, signal, pathlib, sys
        written = []
        real = pathlib.Path.write_bytes
        def dying_write(self, data):
            n = real(self, data)
            if ".tmp-" in str(self):
                written.append(self)
                if len(written) == 4:
                    os.kill(os.getpid(), signal.SIGKILL)
            return n
        pathlib.Path.write_bytes = dying_write
        from pipelines.cli import main
        sys.exit(main(["run", "--raw", {str(raw_copy)!r}, "--published", {str(published)!r}]))
    """)
    killed = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert killed.returncode == -9
    root = published / "council-decisions"
    assert latest(published) == good and {p.name: p.read_bytes() for p in good.iterdir()} == digest
    assert frictionless_package_errors(str(good / "datapackage.json")) == []
    assert [p.name for p in root.iterdir() if p.name.startswith(".tmp-")]  # the half-written release
    assert sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) == ["0.1.0", "latest"]
    run(raw_copy, published)  # the next run cleans up and publishes
    assert latest(published).name == "0.2.0" and not [p for p in root.iterdir() if p.name.startswith(".tmp-")]


def test_two_clean_runs_give_byte_identical_files(raw_copy, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    run(raw_copy, a)
    run(raw_copy, b)
    ra, rb = latest(a), latest(b)
    names = sorted(p.name for p in ra.iterdir())
    assert {"graph.ttl", "graph.nt", "graph.jsonld", "report.html", "CHANGELOG.md", "changes.json",
            "council-decisions-csv.zip", "datapackage.json"} <= set(names)
    match, mismatch, errors = filecmp.cmpfiles(ra, rb, names, shallow=False)
    assert not mismatch and not errors
    assert (a / "catalog.ttl").read_bytes() == (b / "catalog.ttl").read_bytes()
    created = json.loads((ra / "datapackage.json").read_text())["created"]
    assert created == "2022-03-07T00:00:00Z"  # from the inputs, not the clock


def test_source_date_epoch_sets_created(raw_copy, published):
    run(raw_copy, published, env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert json.loads((latest(published) / "datapackage.json").read_text())["created"] == "2023-11-14T22:13:20Z"


def test_catalog_conforms_to_dcat_ap(raw_copy, published):
    run(raw_copy, published)
    (raw_copy / "004_aa5c7dbf37f1ceff.txt").unlink()
    run(raw_copy, published)
    assert catalog_errors(published / "catalog.ttl") == []
    import rdflib
    g = rdflib.Graph().parse(published / "catalog.ttl")
    dcat = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    v2 = rdflib.URIRef("https://opendecisions.uk/id/dataset/council-decisions/0.2.0")
    v1 = rdflib.URIRef("https://opendecisions.uk/id/dataset/council-decisions/0.1.0")
    assert (v2, dcat.previousVersion, v1) in g and str(g.value(v2, dcat.version)) == "0.2.0"
    dists = list(g.objects(v2, dcat.distribution))
    assert len(dists) == 5  # zip of CSVs, datapackage.json, Turtle, N-Triples, JSON-LD
    spdx = rdflib.Namespace("http://spdx.org/rdf/terms#")
    for d in dists:
        size = int(g.value(d, dcat.byteSize))
        name = str(d).rsplit("/", 1)[1]
        assert size == (latest(published) / name).stat().st_size
        assert len(str(g.value(g.value(d, spdx.checksum), spdx.checksumValue))) == 64
    from rdflib.compare import isomorphic
    assert isomorphic(rdflib.Graph().parse(published / "catalog.jsonld", format="json-ld"), g)


def test_catalog_check_catches_a_broken_catalog(tmp_path):
    bad = tmp_path / "catalog.ttl"
    bad.write_text("@prefix dcat: <http://www.w3.org/ns/dcat#> .\n"
                   "<http://example.org/d> a dcat:Distribution ; dcat:byteSize \"big\" .\n")
    errors = catalog_errors(bad)
    assert any("accessURL" in e for e in errors) and any("byteSize" in e for e in errors)


def test_sensor_tick_on_a_new_file_starts_a_run(raw_copy, published):
    settings = PipelineSettings(raw_dir=str(raw_copy), published_dir=str(published))
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("raw_folder_changed")
    instance = dg.DagsterInstance.ephemeral()
    first = sensor(dg.build_sensor_context(instance=instance, resources={"settings": settings}))
    assert isinstance(first, dg.RunRequest)
    cursor = __import__("pipelines.incremental", fromlist=["x"]).folder_signature(raw_copy)
    idle = sensor(dg.build_sensor_context(instance=instance, cursor=cursor, resources={"settings": settings}))
    assert isinstance(idle, dg.SkipReason)
    shutil.copy(DEV / "kirklees_decision_01.txt", raw_copy / "kirklees_decision_01.txt")
    tick = sensor(dg.build_sensor_context(instance=instance, cursor=cursor, resources={"settings": settings}))
    assert isinstance(tick, dg.RunRequest) and tick.run_key
    result = defs.resolve_job_def(MAIN_JOB).execute_in_process(instance=instance, tags=tick.tags)
    assert result.success
    assert "kirklees_decision_01.txt" in (latest(published) / "documents.csv").read_text()
    schedule = defs.resolve_schedule_def("daily_council_decisions")
    assert schedule.cron_schedule == "0 6 * * *" and schedule.job_name == MAIN_JOB


def chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def test_report_renders_in_chromium_with_charts(raw_copy, published, tmp_path):
    browser = chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs Debian's chromium)")
        pytest.skip("chromium not installed")
    shutil.copy(DEV / "croydon_decision_01.txt", raw_copy)
    run(raw_copy, published)
    report = latest(published) / "report.html"
    text = report.read_text()
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in text
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([browser, *flags, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    for chart in ("chart-money", "chart-posts", "chart-decisions", "chart-topics"):
        assert f'id="{chart}"' in dom.stdout
    assert dom.stdout.count('class="bar"') >= 10
    assert "macro F1 1.000" in dom.stdout and "5 labelled document" in dom.stdout
    shot = tmp_path / "report.png"
    subprocess.run([browser, *flags, "--window-size=1200,2000", f"--screenshot={shot}", report.as_uri()],
                   capture_output=True, timeout=120, cwd=tmp_path)
    assert shot.exists() and shot.stat().st_size > 20000


def test_csv_writer_matches_pythons_csv_module_on_awkward_cells():
    """The Polars CSV writer must give exactly what csv.writer(QUOTE_MINIMAL) gives."""
    import csv
    import io

    import pandas as pd

    from pipelines.publish import csv_bytes

    cells = ["plain", "comma, inside", 'a "quoted" word', "line\nbreak", " leading space",
             "trailing space ", "£216k – “curly”", None, "0", "café", "tab\tinside", '"', ","]
    df = pd.DataFrame({"a": pd.Series(cells, dtype=object), "b": pd.Series(list(reversed(cells)), dtype=object)})
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(["a", "b"])
    for row in df.itertuples(index=False):
        writer.writerow(["" if v is None else v for v in row])
    assert csv_bytes(df) == buf.getvalue().encode("utf-8")
    # a bare carriage return is quoted too (Python's writer leaves it bare, which breaks some readers)
    odd = pd.DataFrame({"a": pd.Series(["carriage\rreturn"], dtype=object)})
    assert list(csv.reader(io.StringIO(csv_bytes(odd).decode(), newline=""))) == [["a"], ["carriage\rreturn"]]


def test_rerun_copies_unchanged_triples_and_matches_a_cold_run(raw_copy, tmp_path):
    """A rerun copies unchanged documents' bytes from the previous release's dumps; what it
    publishes must equal, byte for byte, a cold run over the same inputs (up to the release's
    own PROV block, which names its version)."""
    docs = sorted(p for p in raw_copy.glob("*.txt"))
    warm, cold = tmp_path / "warm", tmp_path / "cold"
    run(raw_copy, warm)
    from pipelines.incremental import GraphIndex
    index = GraphIndex.load(warm / ".cache" / "graph-index.pickle")
    assert index.version == "0.1.0" and len(index.entries) == len(table(latest(warm), "documents"))
    middle = docs[len(docs) // 2]
    middle.write_text(middle.read_text(encoding="utf-8").replace("£", "GBP ", 1), encoding="utf-8")
    run(raw_copy, warm)
    assert latest(warm).name != "0.1.0"
    run(raw_copy, cold)

    def before_prov(data: bytes) -> bytes:
        return data[: data.rfind(b"\n", 0, data.find(b"activity/publish-"))]

    for name in ("graph.nt", "graph.ttl", "graph.jsonld"):
        a, b = (latest(warm) / name).read_bytes(), (latest(cold) / name).read_bytes()
        assert before_prov(a) == before_prov(b), name
        assert len(before_prov(a)) > 0.9 * len(a)
