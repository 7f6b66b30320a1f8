"""The DCAT catalog that data portals harvest: published/catalog.ttl and catalog.jsonld.

One dcat:Catalog; a dcat:DatasetSeries for council-decisions; one dcat:Dataset per release
(DCAT 3 versioning: dcat:version, dcat:previousVersion, dcat:hasVersion, dcat:inSeries) with a
dcat:Distribution per downloadable file (media type, byte size, SPDX sha256 checksum). Built
only from the releases' own datapackage.json and tables, so it can be rebuilt at any time; it is
written atomically. Conformance to DCAT-AP 3.0.0 is checked by `catalog_errors` (pyshacl).
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pyoxigraph as ox

from .metadata import SCHEMA_DIR, concept_schemes, package_metadata, rdf_prefixes
from .publish import CSV_ZIP, PACKAGE_NAME, all_releases, file_facts
from .rdf import RDF_TYPE, XSD, UriMinter, iri, jsonld_bytes, literal, nt_bytes, parse_nt

DCAT_SHAPES = [SCHEMA_DIR / "dcat-ap" / "dcat-ap-3.0.0-SHACL.ttl", SCHEMA_DIR / "dcat-ap" / "dcat-ap-3.0.0-range.ttl"]
DEFAULT_DOWNLOAD_BASE = "https://opendecisions.uk/published/"
NS = {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/", "foaf": "http://xmlns.com/foaf/0.1/",
      "spdx": "http://spdx.org/rdf/terms#", "skos": "http://www.w3.org/2004/02/skos/core#",
      "vcard": "http://www.w3.org/2006/vcard/ns#", "rdfs": "http://www.w3.org/2000/01/rdf-schema#"}
IANA = "http://www.iana.org/assignments/media-types/"
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
FORMATS = {  # media type -> EU file-type authority code
    "text/csv": "CSV", "application/json": "JSON", "text/turtle": "RDF_TURTLE", "application/n-triples": "RDF_N_TRIPLES",
    "application/ld+json": "JSON_LD", "text/markdown": "TXT", "text/html": "HTML", "application/zip": "ZIP"}
DATA_THEME = "http://publications.europa.eu/resource/authority/data-theme/SOCI"
OGL = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"


def p(curie: str) -> str:
    prefix, local = curie.split(":", 1)
    return iri(NS[prefix] + local)


@lru_cache(maxsize=256)
def _coverage(release: Path) -> tuple[str | None, str | None, list[str]]:
    """Dates and places a release covers; releases are immutable, so once per process is enough.
    Only the date columns are read (Arrow's CSV reader): decisions.csv is ~55 MB at 100,000 documents."""
    lows, highs = [], []
    for name, cols in (("decisions", ["decision_date", "publication_date"]), ("meetings", ["meeting_date"])):
        df = pd.read_csv(release / f"{name}.csv", dtype=str, usecols=cols, engine="pyarrow")
        for col in cols:
            values = df[col].dropna()
            values = values[values != ""]
            if len(values):
                lows.append(values.min())
                highs.append(values.max())
    orgs = pd.read_csv(release / "organisations.csv", dtype=str, keep_default_na=False)
    return (min(lows) if lows else None, max(highs) if highs else None, sorted(g for g in orgs.gss_code if g))


def catalog_lines(published_dir: Path, base_uri: str, download_base: str = DEFAULT_DOWNLOAD_BASE) -> list[str]:
    minter = UriMinter(base_uri)
    base, meta = minter.base, package_metadata()
    releases = all_releases(published_dir)
    out: list[str] = []

    def t(s, pred, o):
        out.append(f"{s} {pred} {o} .")

    def typed(node, cls):
        t(node, f"<{RDF_TYPE}>", p(cls))

    catalog, series = iri(base + "catalog"), iri(base + f"dataset/{PACKAGE_NAME}")
    publisher = iri(base + "organisation/opendecisions")
    licence = iri(OGL)
    typed(catalog, "dcat:Catalog")
    t(catalog, p("dct:title"), literal("opendecisions catalogue"))
    t(catalog, p("dct:description"), literal("Open data on UK councils' decisions about children's services."))
    t(catalog, p("dct:publisher"), publisher)
    t(catalog, p("dct:license"), licence)
    t(catalog, p("foaf:homepage"), iri(meta["homepage"]))
    typed(iri(meta["homepage"]), "foaf:Document")
    typed(publisher, "foaf:Agent")
    t(publisher, p("foaf:name"), literal("opendecisions"))
    typed(licence, "dct:LicenseDocument")
    t(licence, p("dct:title"), literal("Open Government Licence v3.0"))
    theme = iri(DATA_THEME)
    typed(theme, "skos:Concept")
    t(theme, p("skos:prefLabel"), literal("Population and society"))
    typed(series, "dcat:DatasetSeries")
    typed(series, "dcat:Dataset")  # DCAT-AP checks dcat:dataset values without inference
    t(series, p("dct:title"), literal(meta["title"]))
    t(series, p("dct:description"), literal(meta["description"]))
    t(series, p("dct:publisher"), publisher)
    t(catalog, p("dcat:dataset"), series)
    keywords = [label for label in concept_schemes()["topic"]["concepts"].values() if label != "Other"]
    previous = None
    for release in releases:
        desc = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
        version = desc["version"]
        ds = iri(base + f"dataset/{PACKAGE_NAME}/{version}")
        typed(ds, "dcat:Dataset")
        t(catalog, p("dcat:dataset"), ds)
        t(ds, p("dct:title"), literal(f"{desc['title']} (release {version})"))
        t(ds, p("dct:description"), literal(desc["description"]))
        t(ds, p("dct:identifier"), literal(f"{PACKAGE_NAME}/{version}"))
        t(ds, iri(NS["dcat"] + "version"), literal(version))
        t(ds, p("dct:issued"), literal(desc["created"], XSD + "dateTime"))
        t(ds, p("dct:modified"), literal(desc["created"], XSD + "dateTime"))
        t(ds, p("dct:publisher"), publisher)
        t(ds, p("dcat:inSeries"), series)
        t(series, p("dcat:hasVersion"), ds)
        t(ds, p("dcat:theme"), theme)
        for word in keywords:
            t(ds, p("dcat:keyword"), literal(word))
        landing = iri(f"{download_base}{PACKAGE_NAME}/{version}/report.html")
        t(ds, p("dcat:landingPage"), landing)
        typed(landing, "foaf:Document")
        if previous:
            t(ds, p("dcat:previousVersion"), previous)
        previous = ds
        start, end, gss = _coverage(release)
        if start:
            period = iri(base + f"dataset/{PACKAGE_NAME}/{version}/period")
            typed(period, "dct:PeriodOfTime")
            t(ds, p("dct:temporal"), period)
            t(period, p("dcat:startDate"), literal(start, XSD + "date"))
            t(period, p("dcat:endDate"), literal(end, XSD + "date"))
        for code in gss:
            place = iri(f"http://statistics.data.gov.uk/id/statistical-geography/{code}")
            typed(place, "dct:Location")
            t(ds, p("dct:spatial"), place)
        stated = {r["path"]: (r["hash"].removeprefix("sha256:"), r["bytes"]) for r in desc["resources"]
                  if str(r.get("hash", "")).startswith("sha256:") and "bytes" in r}
        files = [(r["path"], r.get("mediatype", "application/octet-stream"), r.get("title", r["name"]))
                 for r in desc["resources"] if r["path"].endswith((".ttl", ".nt", ".jsonld")) and r["name"] != "jsonld-context"]
        files = [("datapackage.json", "application/json", "Frictionless data package descriptor")] + files
        if (release / CSV_ZIP).exists():
            files.insert(0, (CSV_ZIP, "application/zip", "CSV tables with datapackage.json (zip)"))
        for path, media, title in files:
            # a release is immutable and states its files' hashes: gigabytes of dumps are not re-read
            digest, size = stated.get(path) or file_facts(release / path)
            dist = iri(base + f"dataset/{PACKAGE_NAME}/{version}/distribution/{path}")
            url = iri(f"{download_base}{PACKAGE_NAME}/{version}/{path}")
            typed(dist, "dcat:Distribution")
            t(ds, p("dcat:distribution"), dist)
            t(dist, p("dct:title"), literal(title))
            t(dist, p("dcat:accessURL"), url)
            t(dist, p("dcat:downloadURL"), url)
            typed(url, "rdfs:Resource")
            media_node = iri(IANA + media)
            typed(media_node, "dct:MediaType")
            t(dist, p("dcat:mediaType"), media_node)
            fmt = iri(FILE_TYPE + FORMATS.get(media, "BIN"))
            typed(fmt, "dct:MediaTypeOrExtent")
            t(dist, p("dct:format"), fmt)
            if media == "application/zip":
                csv_type = iri(IANA + "text/csv")
                typed(csv_type, "dct:MediaType")
                t(dist, p("dcat:packageFormat"), iri(IANA + "application/zip"))
                typed(iri(IANA + "application/zip"), "dct:MediaType")
            t(dist, p("dcat:byteSize"), literal(str(size), XSD + "nonNegativeInteger"))
            t(dist, p("dct:license"), licence)
            checksum = iri(base + f"dataset/{PACKAGE_NAME}/{version}/distribution/{path}/checksum")
            typed(checksum, "spdx:Checksum")
            t(dist, p("spdx:checksum"), checksum)
            algorithm = p("spdx:checksumAlgorithm_sha256")
            typed(algorithm, "spdx:ChecksumAlgorithm")
            t(checksum, p("spdx:algorithm"), algorithm)
            t(checksum, p("spdx:checksumValue"), literal(digest, XSD + "hexBinary"))
    if previous:
        t(series, p("dcat:last"), previous)
        t(series, p("dct:modified"), literal(json.loads((releases[-1] / "datapackage.json").read_text())["created"],
                                             XSD + "dateTime"))
    if releases:
        t(series, p("dcat:first"), iri(base + f"dataset/{PACKAGE_NAME}/{releases[0].name}"))
    return sorted(set(out))


def write_catalog(published_dir: Path, base_uri: str, download_base: str = DEFAULT_DOWNLOAD_BASE) -> dict[str, Path]:
    """Write catalog.ttl and catalog.jsonld beside the releases, each replaced in one rename."""
    nt = nt_bytes(catalog_lines(published_dir, base_uri, download_base))
    triples = parse_nt(nt)
    prefixes = {**{k: v for k, v in rdf_prefixes().items() if k != "dcterms"}, "dct": NS["dct"]}
    files = {"catalog.ttl": ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes),
             "catalog.jsonld": jsonld_bytes(triples)}
    written = {}
    for name, data in files.items():
        target = published_dir / name
        tmp = published_dir / f".{name}.tmp-{os.getpid()}"
        tmp.write_bytes(data)
        os.replace(tmp, target)
        written[name] = target
    return written


def catalog_errors(catalog_ttl: Path, limit: int = 50) -> list[str]:
    """DCAT-AP 3.0.0 SHACL verdict on a catalog (shapes copied from SEMICeu, CC-BY-4.0)."""
    import pyshacl
    from rdflib import Graph
    from rdflib.namespace import SH

    data = Graph().parse(catalog_ttl, format="turtle")
    shapes = Graph()
    for path in DCAT_SHAPES:
        shapes.parse(path, format="turtle")
    conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    if conforms:
        return []
    lines = []
    for result in report.subjects(SH.resultSeverity, SH.Violation):
        lines.append(f"{report.value(result, SH.focusNode)} {report.value(result, SH.resultPath)}: "
                     f"{report.value(result, SH.resultMessage)}")
    return sorted(lines)[:limit]
