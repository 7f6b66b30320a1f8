"""Incremental batches: fingerprint the raw folder, reuse earlier work, redo only what changed.

A document is re-read and re-extracted only when its bytes, its sidecar, its path or the
extractor version (or a setting that changes extraction) differ from a cached run; everything
else comes from an SQLite cache keyed by exactly those. A quarantined file is cached too (the
same bytes fail the same way). Worker processes take documents in chunks and make, per document,
its table rows, its linked-data fragment (rdf.Fragment) and its SHACL verdict, so graph building
and checking are parallel and paid only for changed documents. The dumps are then streamed:
unchanged documents' bytes are copied from the previous release (GraphIndex says where), the
rest come from the cache. A stat cache spares re-hashing files whose size and times are unchanged.

Belongs here: fingerprints, the caches, the chunked parallel loop shared by `opendecisions run`,
the partitioned batches, the schedule and the sensor; writing the dumps from fragments.
Not here: reading or extracting one document (ingest, extract), the RDF mapping (rdf.py).
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import pickle
import sqlite3
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path

from . import extract, ingest, rdf, shacl, tables
from .metadata import SCHEMA_DIR

PARALLEL_MIN = 200  # below this, starting worker processes costs more than it saves
CHUNK = 200  # documents a worker takes at once (and SHACL-checks together)
CACHE_FORMAT = "4"  # bump when what the cache stores changes shape


@dataclass(frozen=True)
class RawFile:
    """A document's fingerprint: enough to know whether it changed, without parsing it."""

    source_path: str
    sha256: str
    sidecar_sha256: str | None
    byte_count: int


@dataclass
class DocumentRows:
    """A document that came through extraction: its table rows (cell-text tuples), its SHACL
    verdict, and the cache key under which its linked-data fragment is stored."""

    document_id: str
    key: str
    rows: dict[str, list[tuple]]
    violations: tuple[str, ...] = ()
    shared: tuple[str, ...] = ()  # N-Triples lines about nodes shared with other documents


@dataclass
class BatchStats:
    files: int = 0
    reused: int = 0
    extracted: int = 0
    quarantined: int = 0
    fresh_documents: list = field(default_factory=list)  # IDs of documents extracted (not reused) this run


def _file_hash(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


BATCHES = tuple(f"{i:x}" for i in range(16))  # document batches: the first hex digit of the document ID


def batch_of(source_path: str) -> str:
    """The batch (a Dagster partition) a document belongs to, from its ID, so it never moves."""
    return extract.document_id_for(source_path)[len("doc-")]


def fingerprint(raw_dir: Path, stat_cache: Path | None = None, batch: str | None = None) -> tuple[list[RawFile], list[dict]]:
    """Hash every candidate document (and its sidecar); stray sidecars become quarantine rows.

    With `stat_cache`, a file whose size, times and inode are those recorded with its hash is not
    read again (git's index does the same): a no-change run over 100,000 files only stats them.
    With `batch`, only that batch's documents (and no stray files) are fingerprinted."""
    candidates, quarantine = ingest.discover(raw_dir)
    if batch is not None:
        candidates, quarantine = [c for c in candidates if batch_of(c.source_path) == batch], []
    known = _load_stat_cache(stat_cache)
    seen: dict[str, tuple] = {}

    def sha(rel: str, path: str, st: os.stat_result) -> str:
        key = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        hit = known.get(rel)
        digest = hit[1] if hit and hit[0] == key else _file_hash(path)
        seen[rel] = (key, digest)
        return digest

    files = []
    for c in candidates:
        try:
            digest = sha(c.source_path, c.path, c.stat)
        except OSError as exc:
            quarantine.append({"source_path": c.source_path, "reason": "unreadable",
                               "detail": f"{type(exc).__name__}: {exc.strerror or exc}", "sha256": None})
            continue
        try:
            side = sha(c.source_path + "\0sidecar", c.sidecar, c.sidecar_stat) if c.sidecar else None
        except OSError as exc:
            quarantine.append({"source_path": c.source_path, "reason": "unreadable",
                               "detail": f"sidecar: {type(exc).__name__}: {exc.strerror or exc}", "sha256": digest})
            continue
        files.append(RawFile(c.source_path, digest, side, c.stat.st_size))
    if stat_cache is not None and seen != known:
        write_atomic(stat_cache, pickle.dumps(seen, protocol=5))
    return files, quarantine


def _load_stat_cache(path: Path | None) -> dict:
    try:
        return pickle.loads(path.read_bytes()) if path else {}
    except (OSError, pickle.UnpicklingError, EOFError, ValueError):
        return {}


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def folder_signature(raw_dir: Path) -> str:
    """A cheap signature of the raw folder for the sensor: every document's and sidecar's path,
    size and modification time (the stat results discovery already has), and stray files."""
    candidates, stray = ingest.discover(raw_dir)
    h = hashlib.sha256()
    for c in candidates:
        h.update(f"{c.source_path}\0{c.stat.st_size}\0{c.stat.st_mtime_ns}\n".encode())
        if c.sidecar_stat:
            h.update(f"\0sidecar\0{c.sidecar_stat.st_size}\0{c.sidecar_stat.st_mtime_ns}\n".encode())
    for row in stray:
        h.update(f"{row['source_path']}\0stray\n".encode())
    return h.hexdigest()


class ExtractionCache:
    """SQLite store of per-document results (rows and SHACL verdict, or a quarantine row) and,
    apart, of their linked-data fragments, which only the graph step reads."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), timeout=300)  # partition runs may write at the same time
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, payload BLOB NOT NULL)")
        self.db.execute("CREATE TABLE IF NOT EXISTS fragments (key TEXT PRIMARY KEY, payload BLOB NOT NULL)")

    def _get(self, table: str, keys: list[str]):
        for start in range(0, len(keys), 500):
            chunk = keys[start: start + 500]
            yield from self.db.execute(
                f"SELECT key, payload FROM {table} WHERE key IN ({','.join('?' * len(chunk))})", chunk)

    # Stored uncompressed: a rerun reads every unchanged document back, and at 100,000 documents
    # decompressing would cost more time than the disk space saved is worth.
    def get_many(self, keys: list[str]) -> dict[str, object]:
        return {k: pickle.loads(v) for k, v in self._get("results", keys)}

    def fragments(self, keys: list[str]) -> dict[str, rdf.Fragment]:
        return {k: pickle.loads(v) for k, v in self._get("fragments", keys)}

    def put_many(self, items: dict[str, object], fragments: dict[str, bytes] | None = None) -> None:
        """`fragments` arrive already pickled (by the worker that made them)."""
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?)",
                                ((k, pickle.dumps(v, protocol=5)) for k, v in items.items()))
            if fragments:
                self.db.executemany("INSERT OR REPLACE INTO fragments VALUES (?, ?)", fragments.items())

    def close(self) -> None:
        self.db.close()


@lru_cache(maxsize=1)
def schema_fingerprint() -> str:
    """Hash of schemas/ and the reference data: a change there invalidates cached extractions."""
    h = hashlib.sha256()
    for folder in (SCHEMA_DIR, Path(__file__).resolve().parent / "data"):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()[:16]


def settings_key_for(include_contact_details: bool, max_bytes: int, base_uri: str = tables.DEFAULT_BASE_URI) -> str:
    return f"contacts={include_contact_details};max_bytes={max_bytes};base={base_uri};schemas={schema_fingerprint()}"


def inputs_signature(files: list[RawFile], stray: list[dict], *settings) -> str:
    """One hash of everything a release is made from: every document's cache key (bytes, sidecar,
    path, extractor version, schemas), stray files, and the settings that shape the output."""
    from .publish import pipeline_version

    key = settings_key_for(*settings[:3])
    h = hashlib.sha256("\0".join(map(str, (pipeline_version(), *settings))).encode())
    for raw in files:
        h.update(cache_key(raw, key).encode())
    for row in sorted(stray, key=lambda r: r["source_path"]):
        h.update(f"{row['source_path']}\0{row['reason']}".encode())
    return h.hexdigest()


class PublishedInputs:
    """Remembers which inputs signature the latest release was made from, so a run over the very
    same inputs can stop before extracting anything."""

    def __init__(self, path: Path):
        self.path = path

    def matches(self, signature: str, latest_version: str | None) -> bool:
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return latest_version is not None and record == {"signature": signature, "version": latest_version}

    def record(self, signature: str, version: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".tmp-{os.getpid()}")
        tmp.write_text(json.dumps({"signature": signature, "version": version}), encoding="utf-8")
        os.replace(tmp, self.path)


def cache_key(raw: RawFile, settings_key: str) -> str:
    return hashlib.sha256("\0".join([raw.sha256, raw.sidecar_sha256 or "", raw.source_path,
                                     extract.EXTRACTOR_VERSION, CACHE_FORMAT, settings_key]).encode()).hexdigest()


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


@dataclass(frozen=True)
class _Job:
    """What a worker needs to turn raw files into rows, fragments and SHACL verdicts."""

    raw_dir: Path
    include_contact_details: bool
    max_bytes: int
    base_uri: str


def _process_chunk(job: _Job, chunk: list[tuple[RawFile, str]]) -> list[tuple[str, object, bytes | None]]:
    """(key, DocumentRows or quarantine row, pickled fragment or None) for each file of a chunk.

    The chunk's triples are SHACL-checked together, with the councils and shared nodes they
    point at, so graph checking is spread over the workers and paid only for changed documents."""
    results: dict[str, object] = {}
    fragments: dict[str, rdf.Fragment] = {}
    for raw, key in chunk:
        result = _extract_one(job.raw_dir, raw, job.include_contact_details, job.max_bytes)
        if not isinstance(result, dict):
            rows = tables.document_rows(result)
            try:
                fragments[key] = rdf.document_fragment(rows, job.base_uri)
                result = DocumentRows(result.document["document_id"], key, rows, shared=fragments[key].shared)
            except Exception as exc:  # a record the mapping cannot express quarantines its document only
                result = {"source_path": raw.source_path, "reason": "extraction_error",
                          "detail": f"linked data: {type(exc).__name__}: {exc}", "sha256": raw.sha256}
        results[key] = result
    documents = [r for r in results.values() if isinstance(r, DocumentRows)]
    for key, violations in shacl_by_document(fragments, documents, job.base_uri).items():
        results[key].violations = violations
    return [(key, result, pickle.dumps(fragments[key], protocol=5) if key in fragments else None)
            for key, result in results.items()]


def shacl_by_document(fragments: dict[str, rdf.Fragment], docs: list[DocumentRows], base_uri: str) -> dict[str, tuple]:
    """SHACL violations of some documents' triples, checked in one store, attributed to the
    document whose record is the focus node."""
    if not fragments:
        return {}
    organisations = tables.frame_from_tuples(
        "organisations", tables.organisation_tuples([d.rows["documents"][0] for d in docs], base_uri))
    shared = {line for f in fragments.values() for line in f.shared}
    context = "\n".join(rdf.global_lines(organisations, shared, base_uri)).encode("utf-8") + b"\n"
    nt = b"".join(f.nt for f in fragments.values()) + context
    owner = {}
    for key, f in fragments.items():
        for line in f.nt.split(b"\n"):
            if line:
                owner[line[1: line.index(b">")].decode("utf-8")] = key
    found: dict[str, list[str]] = {}
    for focus, path, kind in shacl.violations(nt):
        if focus in owner:
            found.setdefault(owner[focus], []).append(f"{focus} {path}: violates sh:{kind}")
    return {k: tuple(v) for k, v in found.items()}


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start: start + size]


def _run_chunks(job: _Job, todo: list[tuple[RawFile, str]], workers: int):
    """Process chunks of documents, across `workers` processes when the batch is big enough to pay
    for them; results come back in input order, a chunk at a time, so memory stays bounded."""
    if workers <= 1 or len(todo) < PARALLEL_MIN:
        for chunk in _chunks(todo, CHUNK):
            yield _process_chunk(job, chunk)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        yield from pool.map(partial(_process_chunk, job), _chunks(todo, CHUNK))


def process(raw_dir: Path, files: list[RawFile], cache: ExtractionCache | None = None,
            include_contact_details: bool = False, max_bytes: int = ingest.DEFAULT_MAX_BYTES,
            workers: int | None = None, base_uri: str = tables.DEFAULT_BASE_URI) -> tuple[list[DocumentRows], list[dict], BatchStats]:
    """Rows and quarantine rows for a fingerprinted batch; one bad file never stops it.
    Documents not in the cache are extracted, mapped to RDF and SHACL-checked in parallel (one
    process per core by default); their fragments go straight to the cache, not to memory."""
    settings_key = settings_key_for(include_contact_details, max_bytes, base_uri)
    stats = BatchStats(files=len(files))
    keys = [cache_key(f, settings_key) for f in files]
    cached = cache.get_many(keys) if cache else {}
    missing = [(raw, key) for raw, key in zip(files, keys) if key not in cached]
    job = _Job(raw_dir, include_contact_details, max_bytes, base_uri)
    fresh: dict[str, object] = {}
    for chunk in _run_chunks(job, missing, default_workers() if workers is None else workers):
        fresh.update((key, result) for key, result, _ in chunk)
        if cache:
            cache.put_many({key: result for key, result, _ in chunk},
                           {key: frag for key, _, frag in chunk if frag is not None})
    stats.extracted = len(fresh)
    stats.fresh_documents = sorted(r.document_id for r in fresh.values() if isinstance(r, DocumentRows))
    documents, quarantine = [], []
    first_path: dict[str, str] = {}
    for raw, key in zip(files, keys):
        if raw.sha256 in first_path:
            quarantine.append({"source_path": raw.source_path, "reason": "duplicate",
                               "detail": f"same bytes as {first_path[raw.sha256]}", "sha256": raw.sha256})
            stats.quarantined += 1
            continue
        result = fresh.get(key)
        if result is None:
            result = cached[key]
            stats.reused += 1
        if isinstance(result, dict):
            quarantine.append(result)
            stats.quarantined += 1
        else:
            first_path[raw.sha256] = raw.source_path
            documents.append(result)
    return documents, quarantine, stats


@dataclass
class GraphIndex:
    """Where each document's fragment lies in a release's dumps: {cache key: (sequence number,
    spans in DUMPS order, triples)}. The next run copies unchanged documents' bytes from there."""

    version: str
    entries: dict

    @staticmethod
    def load(path: Path) -> "GraphIndex | None":
        try:
            return pickle.loads(path.read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
            return None


def write_graph(documents: list[DocumentRows], organisations, folder: Path, base_uri: str,
                cache: ExtractionCache | None = None, previous: tuple[Path, GraphIndex] | None = None):
    """Stream every document's fragment into the dump files, then what no document owns.

    Unchanged documents' bytes are copied, in runs, from the release `previous` names (its folder
    and index); the others' fragments come from the cache (or are made again when there is none).
    Returns the open writer (the release adds its PROV before closing it), the lines no document
    owns (for their own SHACL check) and the new index."""
    writer = rdf.GraphWriter(folder)
    old = previous[1].entries if previous else {}
    sources = tuple(open(previous[0] / name, "rb") for name in rdf.DUMPS) if previous else ()
    index: dict[str, tuple] = {}
    run: list[str] = []  # keys of consecutive unchanged documents, copied in one go

    def copy_run():
        if not run:
            return
        first, last = old[run[0]], old[run[-1]]
        spans = tuple((a[0], b[1]) for a, b in zip(first[1], last[1]))
        new = writer.copy(sources, spans, sum(old[k][2] for k in run))
        for key in run:
            seq, old_spans, triples = old[key]
            index[key] = (len(index), tuple((n[0] + s[0] - f[0], n[0] + s[1] - f[0])
                                            for n, s, f in zip(new, old_spans, first[1])), triples)
        run.clear()

    try:
        for chunk in _chunks(documents, 500):
            missing = [d.key for d in chunk if d.key not in old]
            stored = cache.fragments(missing) if cache and missing else {}
            for doc in chunk:
                if doc.key in old:
                    if run and old[run[-1]][0] + 1 != old[doc.key][0]:
                        copy_run()
                    run.append(doc.key)
                    continue
                copy_run()
                fragment = stored.get(doc.key) or rdf.document_fragment(doc.rows, base_uri)
                spans = writer.add(fragment)
                if spans:
                    index[doc.key] = (len(index), spans, fragment.triples)
        copy_run()
    finally:
        for f in sources:
            f.close()
    common = rdf.global_lines(organisations, {line for d in documents for line in d.shared}, base_uri)
    writer.add(rdf.fragment_of(common))
    return writer, common, index


def _extract_one(raw_dir: Path, raw: RawFile, include_contact_details: bool = False,
                 max_bytes: int = ingest.DEFAULT_MAX_BYTES):
    try:
        doc = ingest.read_document(raw_dir / raw.source_path, raw_dir, max_bytes)
    except ingest.Quarantined as exc:
        return {"source_path": raw.source_path, "reason": exc.reason, "detail": exc.detail, "sha256": raw.sha256}
    except OSError as exc:
        return {"source_path": raw.source_path, "reason": "unreadable",
                "detail": f"{type(exc).__name__}: {exc.strerror or exc}", "sha256": raw.sha256}
    try:
        return extract.extract_document(doc, include_contact_details)
    except Exception as exc:  # one bad document must never stop the run
        return {"source_path": raw.source_path, "reason": "extraction_error",
                "detail": f"{type(exc).__name__}: {exc}", "sha256": raw.sha256}


def process_folder(raw_dir: Path, cache: ExtractionCache | None = None, include_contact_details: bool = False,
                   max_bytes: int = ingest.DEFAULT_MAX_BYTES, workers: int | None = None,
                   base_uri: str = tables.DEFAULT_BASE_URI):
    """Fingerprint and process a whole folder (the path tests and benchmarks use)."""
    files, quarantine = fingerprint(raw_dir)
    documents, more, stats = process(raw_dir, files, cache, include_contact_details, max_bytes, workers=workers,
                                     base_uri=base_uri)
    return documents, quarantine + more, stats
