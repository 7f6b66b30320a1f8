"""Linked data: the validated tables as RDF, and the RDF as published bytes.

The mapping is not written here: each schema file says, per resource, its classes and URI
template and, per field, the property it becomes (`rdf:` keys in schemas/*.schema.yaml), and
schemas/concepts.yaml holds the SKOS schemes. This module only follows those descriptions, so
the graph can never say something the tables do not.

Each document's triples are made once, as canonical N-Triples lines, then as Turtle (pyoxigraph)
and compact JSON-LD (our context): a Fragment. The dumps are the documents' fragments in source
order followed by what no document owns (concepts, councils, shared nodes, the release's PROV),
appended to files, so identical inputs give identical bytes and memory does not grow with the graph.
Belongs here: URIs, triples, dumps. Not here: SHACL (validate_graph), SPARQL (sparql.py).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pyoxigraph as ox

from .metadata import concept_schemes, resources, rdf_prefixes

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
DATATYPES = {"integer": XSD + "integer", "number": XSD + "decimal", "boolean": XSD + "boolean",
             "date": XSD + "date", "datetime": XSD + "dateTime"}
DUMPS = ("graph.nt", "graph.ttl", "graph.jsonld")  # the order GraphWriter's spans and copies use
GRAPH_FILES = {"graph.ttl": "text/turtle", "graph.nt": "application/n-triples",
               "graph.jsonld": "application/ld+json", "context.jsonld": "application/ld+json"}


def expand(curie: str) -> str:
    prefix, _, local = curie.partition(":")
    prefixes = rdf_prefixes()
    return prefixes[prefix] + local if prefix in prefixes and not local.startswith("//") else curie


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "unnamed"


def safe_iri(text: str) -> str | None:
    """An IRI usable in N-Triples, or None for text that is not an absolute http(s) IRI."""
    text = str(text).strip()
    if not re.match(r"(?i)https?://[^\s/]+", text):
        return None
    return quote(text, safe=":/?#[]@!$&'()*+,;=%-._~")


def iri(value: str) -> str:
    return f"<{value}>"


def literal(value: str, datatype: str | None = None) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{text}"' + (f"^^<{datatype}>" if datatype and datatype != XSD + "string" else "")


class UriMinter:
    """Stable URIs under a configurable base: minted from primary keys, never row order or time."""

    def __init__(self, base_uri: str):
        self.base = base_uri if base_uri.endswith("/") else base_uri + "/"

    def resource(self, name: str, row: dict) -> str:
        return self.base + resources()[name].rdf["uri"].format(**row)

    def concept(self, scheme: str, key: str | None = None) -> str:
        return self.base + f"concept/{scheme}" + (f"/{key}" if key else "")

    def node(self, template: str, row: dict, value: str) -> str:
        return self.base + template.format(**{**row, "slug": slug(value), "value": value})


def _value_lines(subject: str, spec, value: str, ftype: str, row: dict, minter: UriMinter, out: list[str],
                 shared: list[str]):
    if isinstance(spec, (str, list)):
        for prop in [spec] if isinstance(spec, str) else spec:
            out.append(f"{subject} {iri(expand(prop))} {literal(value, DATATYPES.get(ftype))} .")
        return
    prop = iri(expand(spec["property"]))
    values = value.split(spec["split"]) if "split" in spec else [value]
    for item in values:
        if "ref" in spec:
            target = minter.resource(spec["ref"], {resources()[spec["ref"]].primary_key[0]: item})
            out.append(f"{subject} {prop} {iri(target)} .")
        elif "concept" in spec:
            out.append(f"{subject} {prop} {iri(minter.concept(spec['concept'], item))} .")
        elif "iri" in spec:
            target = safe_iri(spec["iri"].format(value=item))
            if target:
                out.append(f"{subject} {prop} {iri(target)} .")
        elif "node" in spec:
            if spec.get("requires") and not row.get(spec["requires"]):
                if spec.get("fallback"):
                    out.append(f"{subject} {iri(expand(spec['fallback']))} {literal(item)} .")
                continue
            node = iri(minter.node(spec["node"], row, item))
            out.append(f"{subject} {prop} {node} .")
            # a node minted per document (a checksum) travels with its record; one that many
            # documents share (a role, a committee) is described once for the whole graph
            about = out if "{document_id}" in spec["node"] else shared
            if spec.get("nodeClass"):
                about.append(f"{node} <{RDF_TYPE}> {iri(expand(spec['nodeClass']))} .")
            if spec.get("valueProperty"):
                about.append(f"{node} {iri(expand(spec['valueProperty']))} {literal(item)} .")
            for p, const in (spec.get("constants") or {}).items():
                about.append(f"{node} {iri(expand(p))} {iri(expand(const))} .")
            for p, link in (spec.get("links") or {}).items():
                target = minter.resource(link["ref"], {resources()[link["ref"]].primary_key[0]: row[link["column"]]})
                about.append(f"{node} {iri(expand(p))} {iri(target)} .")


@lru_cache(maxsize=None)
def _mapping(name: str) -> tuple:
    """A resource's rdf mapping, with CURIEs expanded once rather than per row."""
    res = resources()[name]
    mapping = res.rdf or {}
    classes = tuple(iri(expand(c)) for c in mapping.get("class", []))
    constants = tuple((iri(expand(p)), literal(v)) for p, v in (mapping.get("constants") or {}).items())
    fields = tuple((f["name"], f["rdf"], f.get("type", "string")) for f in res.fields if f.get("rdf"))
    return bool(mapping), classes, constants, fields, mapping.get("derivedFrom")


def row_lines(name: str, row: dict, minter: UriMinter, out: list[str], shared: list[str]) -> None:
    """Append one record's triples to `out` (and those about shared nodes to `shared`)."""
    mapped, classes, constants, fields, derived = _mapping(name)
    if not mapped:
        return
    row = {k: v for k, v in row.items() if v is not None and v == v and v != ""}
    subject = iri(minter.resource(name, row))
    out.extend(f"{subject} <{RDF_TYPE}> {c} ." for c in classes)
    out.extend(f"{subject} {p} {v} ." for p, v in constants)
    if derived and derived in row:
        out.append(f"{subject} <{PROV_DERIVED}> {iri(minter.resource('documents', {'document_id': row[derived]}))} .")
    for col, spec, ftype in fields:
        if col in row:
            _value_lines(subject, spec, str(row[col]), ftype, row, minter, out, shared)


def table_lines(name: str, df: pd.DataFrame, minter: UriMinter) -> list[str]:
    """N-Triples lines for one resource, following its schema's rdf mapping."""
    out: list[str] = []
    for row in df.to_dict("records"):
        row_lines(name, row, minter, out, out)
    return out


def concept_lines(minter: UriMinter) -> list[str]:
    """The SKOS concept schemes (document types, amount categories, topics)."""
    skos = {k: iri(expand(f"skos:{k}")) for k in ("ConceptScheme", "Concept", "inScheme", "prefLabel",
                                                   "hasTopConcept", "notation")}
    out = []
    for scheme, body in concept_schemes().items():
        s = iri(minter.concept(scheme))
        out += [f"{s} <{RDF_TYPE}> {skos['ConceptScheme']} .", f"{s} {skos['prefLabel']} {literal(body['title'])} ."]
        for key, label in body["concepts"].items():
            c = iri(minter.concept(scheme, key))
            out += [f"{c} <{RDF_TYPE}> {skos['Concept']} .", f"{c} {skos['inScheme']} {s} .",
                    f"{c} {skos['prefLabel']} {literal(label)} .", f"{c} {skos['notation']} {literal(key)} .",
                    f"{s} {skos['hasTopConcept']} {c} ."]
    return out


def graph_lines(tables: dict[str, pd.DataFrame], base_uri: str) -> list[str]:
    """Sorted, de-duplicated N-Triples lines of the whole dataset (without release metadata)."""
    minter = UriMinter(base_uri)
    lines = concept_lines(minter)
    for name, df in tables.items():
        lines.extend(table_lines(name, df, minter))
    return sorted(set(lines))


def release_lines(base_uri: str, version: str, created: str, pipeline_version: str,
                  documents: pd.DataFrame) -> list[str]:
    """PROV for one publishing run: a prov:Activity with its time and the pipeline version."""
    minter = UriMinter(base_uri)
    act = iri(f"{minter.base}activity/publish-{version}")
    prov = lambda t: iri(expand(f"prov:{t}"))  # noqa: E731
    out = [f"{act} <{RDF_TYPE}> {prov('Activity')} .",
           f"{act} {prov('endedAtTime')} {literal(created, XSD + 'dateTime')} .",
           f"{act} {iri(expand('od:pipelineVersion'))} {literal(pipeline_version)} .",
           f"{act} {iri(expand('od:releaseVersion'))} {literal(version)} ."]
    for doc_id in documents["document_id"]:
        out.append(f"{act} {prov('used')} {iri(minter.resource('documents', {'document_id': doc_id}))} .")
    return out


def nt_bytes(lines: list[str]) -> bytes:
    return ("\n".join(sorted(set(lines))) + "\n").encode("utf-8") if lines else b""


def parse_nt(data: bytes) -> list[ox.Triple]:
    return list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))


def context_document() -> dict:
    return {"@context": dict(sorted(rdf_prefixes().items()))}


class _Compactor:
    """Shortens IRIs with the context's prefixes; memoised, since predicates and classes repeat."""

    def __init__(self):
        self.prefixes = sorted(rdf_prefixes().items(), key=lambda p: -len(p[1]))
        self.memo: dict[str, str] = {}

    def __call__(self, value: str) -> str:
        hit = self.memo.get(value)
        if hit is None:
            hit = value
            for prefix, ns in self.prefixes:
                local = value[len(ns):]
                if value.startswith(ns) and local and re.fullmatch(r"[A-Za-z0-9_\-./]*", local):
                    hit = f"{prefix}:{local}"
                    break
            if len(self.memo) < 200_000:
                self.memo[value] = hit
        return hit


def _node_json(triples, compact: _Compactor, dumps) -> list[str]:
    """One compact JSON-LD node per subject, in subject order, as JSON text."""
    string_type = XSD + "string"
    nodes: dict[str, dict] = {}
    for t in triples:
        subject = t.subject.value
        node = nodes.get(subject)
        if node is None:
            node = nodes[subject] = {"@id": compact(subject)}
        obj = t.object
        if t.predicate.value == RDF_TYPE:
            node.setdefault("@type", []).append(compact(obj.value))
            continue
        if isinstance(obj, ox.NamedNode):
            value = {"@id": compact(obj.value)}
        elif obj.language is not None:
            value = {"@value": obj.value, "@language": obj.language}
        elif obj.datatype.value == string_type:
            value = {"@value": obj.value}
        else:
            value = {"@value": obj.value, "@type": compact(obj.datatype.value)}
        node.setdefault(compact(t.predicate.value), []).append(value)
    out = []
    for subject in sorted(nodes):
        node = nodes[subject]
        for values in node.values():
            if isinstance(values, list) and len(values) > 1:
                values.sort(key=dumps)
        out.append(dumps(node))
    return out


def _jsonld_head() -> bytes:
    return ('{"@context":' + _encoder()(context_document()["@context"]) + ',\n"@graph":[\n').encode("utf-8")


JSONLD_TAIL = b"\n]}\n"


def _jsonld_document(parts) -> bytes:
    return _jsonld_head() + ",\n".join(parts).encode("utf-8") + JSONLD_TAIL


def _encoder():
    return json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def jsonld_bytes(triples) -> bytes:
    """Compacted JSON-LD: one node per subject, keys and IRIs shortened with the shared context.
    Written one node per line with the C JSON encoder (no indent), so it stays fast at scale."""
    return _jsonld_document(_node_json(triples, _Compactor(), _encoder()))


@dataclass(frozen=True)
class Fragment:
    """One document's share of the dumps, made once (in a worker, then cached) and concatenated
    into the release files: the dumps never need the whole graph in memory or a global sort."""

    nt: bytes  # its records' triples, sorted unique N-Triples lines
    ttl: bytes  # the same triples as Turtle statements, without @prefix lines
    jsonld: bytes  # the same triples as compact JSON-LD node objects, one per line, comma-separated
    shared: tuple[str, ...]  # N-Triples lines about nodes other documents share too (roles, committees)
    triples: int


@lru_cache(maxsize=4)
def _minter(base_uri: str) -> UriMinter:
    return UriMinter(base_uri)


@lru_cache(maxsize=1)
def _compact_tools():
    return _Compactor(), _encoder()


def _turtle_prefixes() -> dict[str, str]:
    return dict(sorted(rdf_prefixes().items()))


def fragment_of(lines, shared=()) -> Fragment:
    """The three serialisations of some N-Triples lines."""
    lines = sorted(set(lines))
    nt = ("\n".join(lines) + "\n").encode("utf-8") if lines else b""
    triples = list(ox.parse(nt, format=ox.RdfFormat.N_TRIPLES)) if lines else []
    ttl = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=_turtle_prefixes()) if triples else b""
    ttl = b"".join(line for line in ttl.splitlines(keepends=True) if not line.startswith(b"@prefix "))
    compact, dumps = _compact_tools()
    jsonld = ",\n".join(_node_json(triples, compact, dumps)).encode("utf-8")
    return Fragment(nt, ttl, jsonld, tuple(sorted(set(shared))), len(lines))


def document_fragment(rows: dict[str, list[tuple]], base_uri: str) -> Fragment:
    """The triples of one document's records (cell-text tuples per table, see tables.document_rows)."""
    minter = _minter(base_uri)
    own: list[str] = []
    shared: list[str] = []
    for name, tuples in rows.items():
        columns = resources()[name].columns
        for values in tuples:
            row_lines(name, dict(zip(columns, values)), minter, own, shared)
    return fragment_of(own, shared)


def global_lines(organisations: pd.DataFrame, shared, base_uri: str) -> list[str]:
    """What belongs to no one document: the concept schemes, the councils, shared nodes."""
    minter = _minter(base_uri)
    return concept_lines(minter) + table_lines("organisations", organisations, minter) + list(shared)


class GraphWriter:
    """Writes graph.nt, graph.ttl and graph.jsonld (and context.jsonld) into a folder by appending
    fragments, so memory stays flat however big the graph is. Same fragments in the same order
    give the same bytes."""

    def __init__(self, folder: Path, _resume: tuple[bool, int] | None = None):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        mode, buffer = ("ab" if _resume else "wb"), 1 << 20  # large writes: fragments are a few KB each
        self.nt, self.ttl, self.jsonld = (open(folder / name, mode, buffering=buffer) for name in DUMPS)
        self.first_node, self.triples = _resume or (True, 0)
        if not _resume:
            self.ttl.write("".join(f"@prefix {p}: <{ns}> .\n" for p, ns in _turtle_prefixes().items()).encode())
            self.jsonld.write(_jsonld_head())

    def pause(self) -> None:
        """Close the files unfinished, so another step (the release, which knows its version) can
        append its own triples with `resume`."""
        for f in (self.nt, self.ttl, self.jsonld):
            f.close()
        (self.folder / "state.json").write_text(json.dumps([self.first_node, self.triples]))

    @classmethod
    def resume(cls, folder: Path, lines=()) -> "GraphWriter":
        first_node, triples = json.loads((folder / "state.json").read_text())
        (folder / "state.json").unlink()
        writer = cls(folder, (first_node, triples))
        writer.add(fragment_of(lines))
        return writer

    def add(self, fragment: Fragment) -> tuple | None:
        """Append a fragment; returns where its bytes went: a (start, end) span in each dump."""
        if not fragment.triples:
            return None
        return self._append((fragment.nt, fragment.ttl, fragment.jsonld), fragment.triples)

    def copy(self, sources: tuple, spans: tuple, triples: int) -> tuple:
        """Append byte spans of an earlier release's dumps (open files, in DUMPS order): the
        fragments of a run of unchanged documents, copied by the kernel without passing through
        Python. Returns the spans' new places."""
        return self._append(tuple((src, start, end - start) for src, (start, end) in zip(sources, spans)), triples)

    def _append(self, parts: tuple, triples: int) -> tuple:
        if not self.first_node:
            self.jsonld.write(b",\n")
        spans = []
        for f, part in zip((self.nt, self.ttl, self.jsonld), parts):
            start = f.tell()
            if isinstance(part, bytes):
                f.write(part)
            else:
                f.flush()
                _copy_file_range(*part, f)
            spans.append((start, f.tell()))
        self.first_node = False
        self.triples += triples
        return tuple(spans)

    def close(self) -> dict[str, Path]:
        self.jsonld.write(JSONLD_TAIL)
        for f in (self.nt, self.ttl, self.jsonld):
            f.close()
        context = self.folder / "context.jsonld"
        context.write_text(json.dumps(context_document(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return {name: self.folder / name for name in GRAPH_FILES}


def _copy_file_range(src, offset: int, count: int, dst) -> None:
    """Copy count bytes from offset in src to the end of dst (both open binary files)."""
    while count > 0:
        try:
            done = os.copy_file_range(src.fileno(), dst.fileno(), count, offset)
        except OSError:  # another filesystem or an old kernel: copy through memory
            src.seek(offset)
            done = len(chunk := src.read(min(count, 1 << 24)))
            dst.write(chunk)
            dst.flush()
        if done <= 0:
            raise OSError(f"could not copy from {src.name}: {count} bytes short")
        offset += done
        count -= done
