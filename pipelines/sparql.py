"""SPARQL over a release: an embedded pyoxigraph store, result formats, and the query runner.

A release's graph.nt is bulk-loaded once into an on-disk store cached beside the releases
(`published/council-decisions/.stores/<version>/`, never inside the immutable release), so later
queries open it read-only in milliseconds. Queries are read-only by construction: the store is
opened read-only and only the query (not update) grammar is accepted.
Belongs here: store cache, running queries, SPARQL results serialisation. Not here: HTTP (server.py).
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from xml.sax.saxutils import escape

import pyoxigraph as ox

from .metadata import rdf_prefixes
from .publish import latest_release, release_root

RESULT_TYPES = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
                "csv": "text/csv", "tsv": "text/tab-separated-values"}
GRAPH_TYPES = {"turtle": "text/turtle", "jsonld": "application/ld+json", "ntriples": "application/n-triples"}
UPDATE_WORDS = re.compile(r"(?is)^\s*(?:(?:PREFIX\s+\S*\s*<[^>]*>|BASE\s*<[^>]*>)\s*)*"
                          r"(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b")


class QueryError(Exception):
    """A query that cannot run: bad syntax, an update, no release. Its text is for the user."""


class UpdateRefused(QueryError):
    pass


@dataclass
class QueryResult:
    kind: str  # "select", "ask" or "graph"
    variables: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)  # pyoxigraph terms or None
    boolean: bool | None = None
    triples: list = field(default_factory=list)
    truncated: bool = False


def store_path(published_dir: Path, release: Path) -> Path:
    return release_root(published_dir) / ".stores" / release.name


def open_release_store(published_dir: Path, release: Path | None = None,
                       in_memory: bool = False) -> tuple[ox.Store, Path]:
    """A read-only store for a release (the latest by default), building its on-disk cache if
    needed; or, `in_memory`, the release loaded into memory (faster joins, ~400 bytes a triple)."""
    release = release or latest_release(published_dir)
    if release is None:
        raise QueryError(f"no release found under {release_root(published_dir)}: run `opendecisions run` first")
    if in_memory:
        store = ox.Store()
        store.bulk_load(path=str(release / "graph.nt"), format=ox.RdfFormat.N_TRIPLES)
        return store, release
    return ox.Store.read_only(str(ensure_store(published_dir, release))), release


def ensure_store(published_dir: Path, release: Path) -> Path:
    path = store_path(published_dir, release)
    if (path / ".complete").exists():
        return path
    tmp = path.with_name(f".tmp-{release.name}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    store = ox.Store(str(tmp))
    store.bulk_load(path=str(release / "graph.nt"), format=ox.RdfFormat.N_TRIPLES)
    store.flush()
    store.optimize()
    del store
    (tmp / ".complete").write_text(release.name)
    try:
        os.rename(tmp, path)
    except OSError:  # another process built it first
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def push_release(published_dir: Path, store_url: str, base_uri: str, release: Path | None = None,
                 timeout: float = 300) -> tuple[str, int]:
    """PUT a release's graph into a SPARQL 1.1 Graph Store Protocol endpoint as one named graph
    per release version (replacing that graph only). Returns (graph IRI, HTTP status)."""
    import urllib.error
    import urllib.request
    from urllib.parse import quote

    release = release or latest_release(published_dir)
    if release is None:
        raise QueryError(f"no release found under {release_root(published_dir)}: run `opendecisions run` first")
    graph = f"{base_uri.rstrip('/')}/release/{release.name}"
    sep = "&" if "?" in store_url else "?"
    nt = release / "graph.nt"
    try:
        with open(nt, "rb") as body:  # streamed: the dump runs to gigabytes at national scale
            request = urllib.request.Request(f"{store_url}{sep}graph={quote(graph, safe='')}", method="PUT", data=body,
                                             headers={"Content-Type": "application/n-triples",
                                                      "Content-Length": str(nt.stat().st_size)})
            with urllib.request.urlopen(request, timeout=timeout) as resp:
                return graph, resp.status
    except urllib.error.HTTPError as exc:
        raise QueryError(f"the store refused the graph: HTTP {exc.code} {exc.read()[:300].decode(errors='replace')}") from exc
    except urllib.error.URLError as exc:
        raise QueryError(f"cannot reach the store at {store_url}: {exc.reason}") from exc


def read_query(text: str) -> str:
    """QUERY is SPARQL text or the path of a .rq file."""
    if text.endswith(".rq") or (len(text) < 4096 and "\n" not in text and Path(text).is_file()):
        path = Path(text)
        if not path.is_file():
            raise QueryError(f"query file not found: {text}")
        return path.read_text(encoding="utf-8")
    return text


def run_query(store: ox.Store, query: str, cap: int | None = None) -> QueryResult:
    """Run a read-only query; at most `cap` rows or triples are kept (truncated says so)."""
    if UPDATE_WORDS.match(query):
        raise UpdateRefused("SPARQL updates are not accepted: this endpoint is read-only")
    try:
        result = store.query(query, prefixes=rdf_prefixes())
    except SyntaxError as exc:
        raise QueryError(f"SPARQL syntax error: {exc}") from exc
    except OSError as exc:
        raise QueryError(f"query failed: {exc}") from exc
    if isinstance(result, ox.QueryBoolean):
        return QueryResult("ask", boolean=bool(result))
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        rows = [[sol[v] for v in variables] for sol in (islice(result, cap + 1) if cap else result)]
        truncated = bool(cap) and len(rows) > cap
        return QueryResult("select", variables, rows[:cap] if cap else rows, truncated=truncated)
    triples = list(islice(result, cap + 1) if cap else result)
    truncated = bool(cap) and len(triples) > cap
    return QueryResult("graph", triples=triples[:cap] if cap else triples, truncated=truncated)


# ---------------------------------------------------------------- serialisation
def _json_term(term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
        out["datatype"] = term.datatype.value
    return out


def _xml_term(term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if term.language:
        return f'<literal xml:lang="{escape(term.language)}">{escape(term.value)}</literal>'
    if term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
        return f'<literal datatype="{escape(term.datatype.value)}">{escape(term.value)}</literal>'
    return f"<literal>{escape(term.value)}</literal>"


def plain(term) -> str:
    """A term's value as text (for CSV and tables): IRIs and literals without markup."""
    if term is None:
        return ""
    return f"_:{term.value}" if isinstance(term, ox.BlankNode) else term.value


def serialize_result(result: QueryResult, fmt: str) -> tuple[bytes, str]:
    """(bytes, media type) in a SPARQL results format (json, xml, csv, tsv) or an RDF format
    (turtle, jsonld, ntriples) for CONSTRUCT/DESCRIBE."""
    if result.kind == "graph":
        fmt = fmt if fmt in GRAPH_TYPES else "turtle"
        if fmt == "jsonld":
            from .rdf import jsonld_bytes

            return jsonld_bytes(result.triples), GRAPH_TYPES[fmt]
        rdf_format = ox.RdfFormat.TURTLE if fmt == "turtle" else ox.RdfFormat.N_TRIPLES
        return ox.serialize(result.triples, format=rdf_format, prefixes=rdf_prefixes()), GRAPH_TYPES[fmt]
    fmt = fmt if fmt in RESULT_TYPES else "json"
    media = RESULT_TYPES[fmt]
    if result.kind == "ask":
        if fmt == "json":
            return json.dumps({"head": {}, "boolean": result.boolean}).encode(), media
        if fmt == "xml":
            return (f'<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head/>'
                    f"<boolean>{str(result.boolean).lower()}</boolean></sparql>\n").encode(), media
        return f"_askResult\n{str(result.boolean).lower()}\n".encode(), media
    if fmt == "json":
        bindings = [{v: _json_term(t) for v, t in zip(result.variables, row) if t is not None} for row in result.rows]
        return json.dumps({"head": {"vars": result.variables}, "results": {"bindings": bindings}},
                          ensure_ascii=False).encode(), media
    if fmt == "xml":
        head = "".join(f'<variable name="{escape(v)}"/>' for v in result.variables)
        body = "".join("<result>" + "".join(f'<binding name="{escape(v)}">{_xml_term(t)}</binding>'
                                            for v, t in zip(result.variables, row) if t is not None) + "</result>"
                       for row in result.rows)
        return (f'<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                f"<head>{head}</head><results>{body}</results></sparql>\n").encode(), media
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(result.variables)
        writer.writerows([[plain(t) for t in row] for row in result.rows])
        return buf.getvalue().encode(), media
    lines = ["\t".join(f"?{v}" for v in result.variables)]
    lines += ["\t".join("" if t is None else str(t) for t in row) for row in result.rows]
    return ("\n".join(lines) + "\n").encode(), media
