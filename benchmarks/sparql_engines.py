"""Compare rdflib and pyoxigraph on the project's own graph and researcher queries.

Usage: python benchmarks/sparql_engines.py [COPIES]   (default 200 copies of the sample graph)

The sample release's N-Triples are replicated COPIES times with distinct subject URIs, then each
engine parses them and answers every queries/*.rq. Prints seconds per step.
"""
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import rdflib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.rdf import graph_lines  # noqa: E402
from pipelines.incremental import process_folder  # noqa: E402
from pipelines.tables import build_tables  # noqa: E402


def replicated_nt(copies: int) -> bytes:
    extractions, quarantine, _ = process_folder(ROOT / "raw")
    lines = graph_lines(build_tables(extractions, quarantine), "https://opendecisions.uk/id/")
    out = []
    for i in range(copies):
        out.extend(line.replace("/id/", f"/id/c{i}/", 1) if "/id/concept/" not in line.split(" ", 1)[0] else line
                   for line in lines)
    return ("\n".join(sorted(set(out))) + "\n").encode()


def timed(label, fn):
    start = time.perf_counter()
    result = fn()
    print(f"{label:48s} {time.perf_counter() - start:8.3f} s")
    return result


def main():
    copies = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    nt = replicated_nt(copies)
    triples = nt.count(b"\n")
    print(f"graph: {triples} triples ({copies} copies of the sample)")
    g = timed("rdflib parse N-Triples", lambda: rdflib.Graph().parse(data=nt, format="nt"))
    store = ox.Store()
    timed("pyoxigraph bulk load N-Triples", lambda: store.bulk_load(nt, format=ox.RdfFormat.N_TRIPLES))
    for rq in sorted((ROOT / "queries").glob("*.rq")):
        text = rq.read_text()
        timed(f"rdflib     {rq.stem}", lambda: len(list(g.query(text))))
        timed(f"pyoxigraph {rq.stem}", lambda: len(list(store.query(text))))
    timed("rdflib serialise Turtle", lambda: g.serialize(format="turtle"))
    timed("pyoxigraph serialise Turtle", lambda: ox.serialize((q.triple for q in store), format=ox.RdfFormat.TURTLE))


if __name__ == "__main__":
    main()
