"""Linked data: the validated tables as RDF, and the RDF as published bytes.

The mapping is not written here: each schema file says, per resource, its classes and URI
template and, per field, the property it becomes (`rdf:` keys in schemas/*.schema.yaml), and
schemas/concepts.yaml holds the SKOS schemes. This module only follows those descriptions, so
the graph can never say something the tables do not.

Triples are produced as canonical N-Triples lines and sorted, so identical tables give identical
bytes; pyoxigraph writes the Turtle, and the JSON-LD is compacted with our own context.
Belongs here: URIs, triples, dumps. Not here: SHACL (validate_graph), SPARQL (sparql.py).
"""
from __future__ import annotations

import json
import re
from urllib.parse import quote

import pandas as pd
import pyoxigraph as ox

from .metadata import concept_schemes, resources, rdf_prefixes

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
DATATYPES = {"integer": XSD + "integer", "number": XSD + "decimal", "boolean": XSD + "boolean",
             "date": XSD + "date", "datetime": XSD + "dateTime"}
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


def _value_lines(subject: str, spec, value: str, ftype: str, row: dict, minter: UriMinter, out: list[str]):
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
            if spec.get("nodeClass"):
                out.append(f"{node} <{RDF_TYPE}> {iri(expand(spec['nodeClass']))} .")
            if spec.get("valueProperty"):
                out.append(f"{node} {iri(expand(spec['valueProperty']))} {literal(item)} .")
            for p, const in (spec.get("constants") or {}).items():
                out.append(f"{node} {iri(expand(p))} {iri(expand(const))} .")
            for p, link in (spec.get("links") or {}).items():
                target = minter.resource(link["ref"], {resources()[link["ref"]].primary_key[0]: row[link["column"]]})
                out.append(f"{node} {iri(expand(p))} {iri(target)} .")


def table_lines(name: str, df: pd.DataFrame, minter: UriMinter) -> list[str]:
    """N-Triples lines for one resource, following its schema's rdf mapping."""
    res = resources()[name]
    mapping = res.rdf
    if not mapping:
        return []
    out: list[str] = []
    classes = [iri(expand(c)) for c in mapping.get("class", [])]
    constants = [(iri(expand(p)), literal(v)) for p, v in (mapping.get("constants") or {}).items()]
    fields = [(f["name"], f["rdf"], f.get("type", "string")) for f in res.fields if f.get("rdf")]
    derived = mapping.get("derivedFrom")
    derived_prop = iri(expand("prov:wasDerivedFrom"))
    for row in df.to_dict("records"):
        row = {k: v for k, v in row.items() if v is not None and v == v and v != ""}
        subject = iri(minter.resource(name, row))
        out.extend(f"{subject} <{RDF_TYPE}> {c} ." for c in classes)
        out.extend(f"{subject} {p} {v} ." for p, v in constants)
        if derived and derived in row:
            out.append(f"{subject} {derived_prop} {iri(minter.resource('documents', {'document_id': row[derived]}))} .")
        for col, spec, ftype in fields:
            if col in row:
                _value_lines(subject, spec, str(row[col]), ftype, row, minter, out)
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


def _jsonld_document(parts) -> bytes:
    dumps = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
    context = dumps(context_document()["@context"])
    return ('{"@context":' + context + ',\n"@graph":[\n' + ",\n".join(parts) + "\n]}\n").encode("utf-8")


def _encoder():
    return json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def jsonld_bytes(triples) -> bytes:
    """Compacted JSON-LD: one node per subject, keys and IRIs shortened with the shared context.
    Written one node per line with the C JSON encoder (no indent), so it stays fast at scale."""
    return _jsonld_document(_node_json(triples, _Compactor(), _encoder()))


def subject_chunks(lines: list[str], size: int = 50_000):
    """Sorted N-Triples lines in chunks of about `size`, never splitting one subject's lines,
    parsed chunk by chunk so the whole graph is never held as Python objects at once."""
    start = 0
    while start < len(lines):
        end = min(start + size, len(lines))
        if end < len(lines):
            subject = lines[end - 1].split(" ", 1)[0]
            while end < len(lines) and lines[end].startswith(subject + " "):
                end += 1
        yield list(ox.parse(("\n".join(lines[start:end]) + "\n").encode("utf-8"), format=ox.RdfFormat.N_TRIPLES))
        start = end


def graph_files(lines: list[str]) -> dict[str, bytes]:
    """The three dumps and the JSON-LD context, as bytes, from sorted unique N-Triples lines."""
    lines = sorted(set(lines))
    compact, dumps, parts = _Compactor(), _encoder(), []

    def triples():
        for chunk in subject_chunks(lines):
            parts.extend(_node_json(chunk, compact, dumps))
            yield from chunk

    ttl = ox.serialize(triples(), format=ox.RdfFormat.TURTLE, prefixes=dict(sorted(rdf_prefixes().items())))
    context = (json.dumps(context_document(), indent=1, sort_keys=True) + "\n").encode("utf-8")
    return {"graph.ttl": ttl, "graph.nt": nt_bytes(lines), "graph.jsonld": _jsonld_document(parts),
            "context.jsonld": context}
