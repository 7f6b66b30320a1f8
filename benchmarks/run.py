"""The benchmark: prints every speed and memory figure, with baselines run side by side.

Usage: python benchmarks/run.py [--sizes 1000,10000,100000] [--out benchmarks/results.json] [--work DIR]

For each corpus size N (made by make_corpus.py, deterministic):
- end-to-end `opendecisions run` (a real subprocess, cold cache): seconds, documents/s, peak RSS;
- a rerun with nothing changed, and a rerun after changing 1% of the documents;
- per stage, in-process: ingest (fingerprint + read + normalise), extract (1 process, then 2:
  the speedup), tables, validate, RDF (triples + dumps), SHACL (fast engine), publish;
- baselines in the same run: rdflib building and serialising the same graph vs our path, and
  `frictionless validate` on the published package vs our validation step (rows/s, same verdicts);
- query latency of every queries/*.rq on the release's store.
Plus PDF text extraction in pages per second. Targets are printed beside the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import make_corpus  # noqa: E402
from pipelines import ingest, incremental, rdf, sparql, tables, validate  # noqa: E402
from pipelines.extract import extract_document  # noqa: E402
from pipelines.publish import publish_package  # noqa: E402

CLI = str(Path(sys.executable).with_name("opendecisions"))


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def cli_run(raw: Path, published: Path) -> dict:
    """One `opendecisions run` as its own process: wall time and peak resident memory."""
    script = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
              "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
              "el = time.perf_counter() - t; "
              "print(el, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode); "
              "sys.stderr.write(r.stderr[-3000:] if r.returncode else '')")
    out = subprocess.run([sys.executable, "-c", script, CLI, "run", "--raw", str(raw), "--published", str(published)],
                         capture_output=True, text=True, env={**os.environ, "OPENDECISIONS_LABELS_DIR": ""})
    elapsed, rss_kb, code = out.stdout.split()
    if code != "0":
        raise RuntimeError(f"opendecisions run failed: {out.stderr}")
    return {"seconds": float(elapsed), "peak_rss_mb": int(rss_kb) / 1024}


def change_one_percent(raw: Path, n: int) -> int:
    changed = 0
    for path in sorted(raw.rglob("*.txt"))[:: 100]:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        path.write_text(text + f"\nA further £{1000 + changed:,} was allocated in 2024/25.\n", encoding="utf-8")
        changed += 1
    return changed


SPEEDUP_SAMPLE = 10_000  # the 1-vs-2-process comparison runs on at most this many documents


def stage_figures(raw: Path, work: Path) -> dict:
    """Each stage on its own, in this process, so the time of each is visible; then baselines."""
    out = {}
    base = tables.DEFAULT_BASE_URI
    out["fingerprint_cold_s"], (files, quarantine) = timed(lambda: incremental.fingerprint(raw))
    sample = files[:SPEEDUP_SAMPLE]
    docs, t_read = [], time.perf_counter()
    for f in sample:
        try:
            docs.append(ingest.read_document(raw / f.source_path, raw))
        except ingest.Quarantined:
            pass
    out["sample_documents"] = len(sample)
    out["read_sample_s"] = time.perf_counter() - t_read
    out["extract_sample_1proc_s"], extractions = timed(lambda: [extract_document(d) for d in docs])
    rows = [tables.document_rows(ex) for ex in extractions]
    out["rdf_fragments_sample_1proc_s"], fragments = timed(lambda: [rdf.document_fragment(r, base) for r in rows])
    ids = [ex.document["document_id"] for ex in extractions]
    pairs = [incremental.DocumentRows(i, i, r) for i, r in zip(ids, rows)]

    def shacl_all():
        for start in range(0, len(pairs), incremental.CHUNK):
            chunk = pairs[start: start + incremental.CHUNK]
            incremental.shacl_by_document({d.key: f for d, f in zip(chunk, fragments[start: start + incremental.CHUNK])},
                                          chunk, base)
    out["shacl_sample_1proc_s"], _ = timed(shacl_all)
    out["all_stages_sample_1proc_s"], _ = timed(lambda: incremental.process(raw, sample, workers=1))
    out["all_stages_sample_2proc_s"], _ = timed(lambda: incremental.process(raw, sample, workers=2))
    out["parallel_speedup_1_to_2"] = out["all_stages_sample_1proc_s"] / out["all_stages_sample_2proc_s"]
    cache_dir = work / "stage-cache"
    shutil.rmtree(cache_dir, ignore_errors=True)
    cache = incremental.ExtractionCache(cache_dir / "extractions.sqlite")
    out["extract_rdf_shacl_all_2proc_s"], (documents, q2, _) = timed(
        lambda: incremental.process(raw, files, cache, workers=2))
    out["documents_per_s_2proc"] = len(files) / out["extract_rdf_shacl_all_2proc_s"]
    out["tables_s"], built = timed(lambda: tables.build_tables(documents, quarantine + q2))
    n_rows = sum(len(df) for df in built.values())
    out["rows"] = n_rows
    out["validate_s"], verdicts = timed(lambda: validate.validate_tables(built))
    out["validate_rows_per_s"] = n_rows / out["validate_s"]
    spool = work / "stage-graph"
    shutil.rmtree(spool, ignore_errors=True)
    out["rdf_dumps_s"], (writer, _, _) = timed(lambda: incremental.write_graph(documents, built["organisations"], spool,
                                                                           base, cache))
    cache.close()
    dumps = writer.close()
    out["triples"] = writer.triples
    published = work / "stage-published"
    shutil.rmtree(published, ignore_errors=True)
    out["publish_s"], _ = timed(lambda: publish_package(built, published, validate.frictionless_package_errors,
                                                        lambda v, c, ch: dumps))
    release = next(published.glob("council-decisions/0.*"))
    # baselines, side by side: rdflib building and serialising the same graph; frictionless validate
    import rdflib

    per_doc = (out["rdf_fragments_sample_1proc_s"] / max(1, len(docs))) * len(documents)
    out["ours_graph_and_dumps_1proc_s"] = per_doc + out["rdf_dumps_s"]
    sample = min(writer.triples, BASELINE_MAX_TRIPLES)  # above this, rdflib gets the dump's first lines

    def rdflib_path():
        with open(release / "graph.nt", "rb") as f:
            data = b"".join(line for _, line in zip(range(sample), f))
        g = rdflib.Graph()
        g.parse(data=data, format="nt")
        return g.serialize(format="turtle")

    out["baseline_rdflib_triples"] = sample
    out["baseline_rdflib_graph_and_turtle_s"], _ = timed(rdflib_path)
    ours_same_share = out["ours_graph_and_dumps_1proc_s"] * sample / writer.triples
    out["rdf_speedup_vs_rdflib"] = out["baseline_rdflib_graph_and_turtle_s"] / ours_same_share
    if n_rows <= BASELINE_MAX_ROWS:
        out["baseline_frictionless_validate_s"], errs = timed(lambda: validate.frictionless_package_errors(
            str(release / "datapackage.json"), limit_rows=0))
        out["baseline_frictionless_rows_per_s"] = n_rows / out["baseline_frictionless_validate_s"]
        out["validate_speedup_vs_frictionless"] = out["baseline_frictionless_validate_s"] / out["validate_s"]
        out["same_verdict_as_frictionless"] = (not errs) == (not any(verdicts.values()))
    return out


BASELINE_MAX_TRIPLES = 300_000  # rdflib needs ~13 minutes per million triples here: larger graphs are sampled
BASELINE_MAX_ROWS = 1_000_000  # frictionless validate: ~16,000 rows/s here


def query_latency(published: Path) -> dict:
    """Each researcher query, best of three, on the on-disk store `opendecisions query` uses and
    on the in-memory store of `opendecisions serve --in-memory`."""
    out = {}
    for mode, in_memory in (("on_disk", False), ("in_memory", True)):
        t, (store, release) = timed(lambda: sparql.open_release_store(published, in_memory=in_memory))
        out[f"{mode}_store_open_or_build_s"] = t
        for rq in sorted((ROOT / "queries").glob("*.rq")):
            text = rq.read_text()
            out[f"{mode}:{rq.stem}"] = min(timed(lambda: sparql.run_query(store, text))[0] for _ in range(3))
        store = None  # let the in-memory store go before the next
    return out


def pdf_pages_per_second(pages: int = 60) -> float:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    for p in range(pages):
        pdf.add_page()
        for line in range(30):
            pdf.cell(0, 6, f"Paragraph {p}.{line}: the council approved funding of GBP {p * 1000 + line} for early help.",
                     new_x="LMARGIN", new_y="NEXT")
        if p % 3 == 0:
            with pdf.table(col_widths=(60, 40, 30, 20)) as table:
                for row in [("Post", "Grade", "Cost", "FTE"), ("Social Worker", "Hay Band B", "GBP 49,179", "2")]:
                    r = table.row()
                    for cell in row:
                        r.cell(cell)
    data = bytes(pdf.output())
    seconds, _ = timed(lambda: ingest.pdf_to_text(data))
    return pages / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.json")
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work_root = args.work or Path(tempfile.mkdtemp(prefix="opendecisions-bench-"))
    results = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "sizes": {}}
    if args.out.exists():  # figures for other sizes are kept: a run of one size updates its own
        results["sizes"] = json.loads(args.out.read_text()).get("sizes", {})
    results["pdf_pages_per_s"] = pdf_pages_per_second()
    print(f"PDF text extraction: {results['pdf_pages_per_s']:.1f} pages/s (target >= 50 per core)", flush=True)
    for n in [int(x) for x in args.sizes.split(",")]:
        work = work_root / f"n{n}"
        shutil.rmtree(work, ignore_errors=True)
        raw, published = work / "raw", work / "published"
        make_corpus.make(n, raw)
        r = {"documents": n}
        r["e2e_cold"] = cli_run(raw, published)
        r["e2e_docs_per_s"] = n / r["e2e_cold"]["seconds"]
        r["rerun_no_change"] = cli_run(raw, published)
        r["changed_documents"] = change_one_percent(raw, n)
        r["rerun_1pct_changed"] = cli_run(raw, published)
        r["queries_s"] = query_latency(published)
        r["stages"] = stage_figures(raw, work)
        results["sizes"][str(n)] = r
        print_size(r, flush=True)
        args.out.write_text(json.dumps(results, indent=1))
    print(f"figures written to {args.out}")


def print_size(r: dict, flush=True):
    n, s = r["documents"], r["stages"]
    k = s["sample_documents"]
    lines = [f"\n== N = {n:,} documents ==",
             f"end-to-end opendecisions run: {r['e2e_cold']['seconds']:.1f} s, {r['e2e_docs_per_s']:.0f} docs/s, "
             f"peak RSS {r['e2e_cold']['peak_rss_mb']:.0f} MB (targets at 100k: < 300 s, < 2048 MB)",
             f"rerun, nothing changed: {r['rerun_no_change']['seconds']:.1f} s (target at 100k: < 10 s)",
             f"rerun, {r['changed_documents']} documents (1%) changed: {r['rerun_1pct_changed']['seconds']:.1f} s, "
             f"peak RSS {r['rerun_1pct_changed']['peak_rss_mb']:.0f} MB (target at 100k: < 30 s)",
             f"stages on all {n:,}: fingerprint (cold) {s['fingerprint_cold_s']:.1f} s | read+extract+RDF+SHACL, "
             f"2 procs {s['extract_rdf_shacl_all_2proc_s']:.1f} s ({s['documents_per_s_2proc']:.0f} docs/s) | tables "
             f"{s['tables_s']:.1f} s | validate {s['validate_s']:.2f} s | dumps {s['rdf_dumps_s']:.1f} s "
             f"({s['triples']:,} triples) | publish {s['publish_s']:.1f} s",
             f"stages on {k:,} documents, 1 process: read {s['read_sample_s']:.1f} s | extract "
             f"{s['extract_sample_1proc_s']:.1f} s | RDF fragments {s['rdf_fragments_sample_1proc_s']:.1f} s | "
             f"SHACL {s['shacl_sample_1proc_s']:.1f} s | all of them 1 proc {s['all_stages_sample_1proc_s']:.1f} s, "
             f"2 procs {s['all_stages_sample_2proc_s']:.1f} s: speedup {s['parallel_speedup_1_to_2']:.2f}x",
             f"validation: {s['rows']:,} rows at {s['validate_rows_per_s']:,.0f} rows/s (target >= 200,000)"]
    if "baseline_frictionless_validate_s" in s:
        lines.append(f"  baseline frictionless validate: {s['baseline_frictionless_validate_s']:.1f} s "
                     f"({s['baseline_frictionless_rows_per_s']:,.0f} rows/s); ours is "
                     f"{s['validate_speedup_vs_frictionless']:.0f}x faster; same verdict: {s['same_verdict_as_frictionless']}")
    else:
        lines.append(f"  baseline frictionless validate: skipped above {BASELINE_MAX_ROWS:,} rows")
    lines.append(f"RDF: ours (triples + all three dumps, 1 process) {s['ours_graph_and_dumps_1proc_s']:.1f} s for "
                 f"{s['triples']:,} triples; baseline rdflib parse+Turtle {s['baseline_rdflib_graph_and_turtle_s']:.1f} s "
                 f"for {s['baseline_rdflib_triples']:,} of them: ours is {s['rdf_speedup_vs_rdflib']:.1f}x faster "
                 f"per triple")
    q = r["queries_s"]
    for mode in ("on_disk", "in_memory"):
        lines.append(f"queries, {mode.replace('_', '-')} store (open/build {q[f'{mode}_store_open_or_build_s']:.1f} s; "
                     f"target each < 1 s): " + ", ".join(f"{k.split(':')[1]} {v * 1000:.0f} ms" for k, v in q.items()
                                                        if k.startswith(mode + ":")))
    print("\n".join(lines), flush=flush)


if __name__ == "__main__":
    main()
