"""Incremental batches: fingerprint the raw folder, reuse earlier extractions, redo only what changed.

A document is re-read and re-extracted only when its bytes, its sidecar, its path or the
extractor version (or a setting that changes extraction) differ from a cached run; everything
else comes from an SQLite cache keyed by exactly those. A quarantined file is cached too (the
same bytes fail the same way). Belongs here: fingerprints, the cache, the batch loop shared by
`opendecisions run`, the schedule and the sensor. Not here: reading or extracting one document.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import pickle
import sqlite3
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path

from . import extract, ingest
from .metadata import SCHEMA_DIR

PARALLEL_MIN = 200  # below this, starting worker processes costs more than it saves


@dataclass(frozen=True)
class RawFile:
    """A document's fingerprint: enough to know whether it changed, without parsing it."""

    source_path: str
    sha256: str
    sidecar_sha256: str | None
    byte_count: int


@dataclass
class BatchStats:
    files: int = 0
    reused: int = 0
    extracted: int = 0
    quarantined: int = 0
    fresh_documents: list = field(default_factory=list)  # IDs of documents extracted (not reused) this run


def fingerprint(raw_dir: Path) -> tuple[list[RawFile], list[dict]]:
    """Hash every candidate document (and its sidecar); stray sidecars become quarantine rows."""
    paths, quarantine = ingest.discover(raw_dir)
    files = []
    for path in paths:
        rel = ingest.relative(path, raw_dir)
        try:
            data = path.read_bytes()
        except OSError as exc:
            quarantine.append({"source_path": rel, "reason": "unreadable",
                               "detail": f"{type(exc).__name__}: {exc.strerror or exc}", "sha256": None})
            continue
        sidecar = path.with_name(path.stem + ingest.SIDECAR_SUFFIX)
        side = hashlib.sha256(sidecar.read_bytes()).hexdigest() if sidecar.exists() else None
        files.append(RawFile(rel, hashlib.sha256(data).hexdigest(), side, len(data)))
    return files, quarantine


def folder_signature(raw_dir: Path) -> str:
    """A cheap signature of the raw folder (paths, sizes, modification times) for the sensor."""
    h = hashlib.sha256()
    for path in sorted(p for p in raw_dir.rglob("*") if p.is_file()):
        st = path.stat()
        h.update(f"{path.relative_to(raw_dir).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


class ExtractionCache:
    """SQLite store of per-document results: an Extraction or a quarantine row."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path))
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, payload BLOB NOT NULL)")

    def get_many(self, keys: list[str]) -> dict[str, object]:
        found = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start: start + 500]
            rows = self.db.execute(f"SELECT key, payload FROM results WHERE key IN ({','.join('?' * len(chunk))})",
                                   chunk)
            found.update((k, pickle.loads(zlib.decompress(v))) for k, v in rows)
        return found

    def put_many(self, items: dict[str, object]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?)",
                                ((k, zlib.compress(pickle.dumps(v, protocol=5), 1)) for k, v in items.items()))

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


def settings_key_for(include_contact_details: bool, max_bytes: int) -> str:
    return f"contacts={include_contact_details};max_bytes={max_bytes};schemas={schema_fingerprint()}"


def inputs_signature(files: list[RawFile], stray: list[dict], *settings) -> str:
    """One hash of everything a release is made from: every document's cache key (bytes, sidecar,
    path, extractor version, schemas), stray files, and the settings that shape the output."""
    from .publish import pipeline_version

    key = settings_key_for(*settings[:2])
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
                                     extract.EXTRACTOR_VERSION, settings_key]).encode()).hexdigest()


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def _extract_many(raw_dir: Path, todo: list[RawFile], include_contact_details: bool, max_bytes: int,
                  workers: int) -> list:
    """Extract documents, across `workers` processes when the batch is big enough to pay for them."""
    if workers <= 1 or len(todo) < PARALLEL_MIN:
        return [_extract_one(raw_dir, raw, include_contact_details, max_bytes) for raw in todo]
    job = partial(_extract_one, raw_dir, include_contact_details=include_contact_details, max_bytes=max_bytes)
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(job, todo, chunksize=max(16, min(256, len(todo) // (workers * 8) or 1))))


def process(raw_dir: Path, files: list[RawFile], cache: ExtractionCache | None = None,
            include_contact_details: bool = False, max_bytes: int = ingest.DEFAULT_MAX_BYTES,
            workers: int | None = None) -> tuple[list[extract.Extraction], list[dict], BatchStats]:
    """Extractions and quarantine rows for a fingerprinted batch; one bad file never stops it.
    Documents not in the cache are extracted in parallel (one process per core by default)."""
    settings_key = settings_key_for(include_contact_details, max_bytes)
    stats = BatchStats(files=len(files))
    keys = [cache_key(f, settings_key) for f in files]
    cached = cache.get_many(keys) if cache else {}
    missing = [(raw, key) for raw, key in zip(files, keys) if key not in cached]
    done = _extract_many(raw_dir, [raw for raw, _ in missing], include_contact_details, max_bytes,
                         default_workers() if workers is None else workers)
    fresh = {key: result for (_, key), result in zip(missing, done)}
    stats.extracted = len(fresh)
    stats.fresh_documents = sorted(r.document["document_id"] for r in fresh.values() if not isinstance(r, dict))
    extractions, quarantine = [], []
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
            extractions.append(result)
    if cache and fresh:
        cache.put_many(fresh)
    return extractions, quarantine, stats


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
                   max_bytes: int = ingest.DEFAULT_MAX_BYTES, workers: int | None = None):
    """Fingerprint and process a whole folder (the path tests and benchmarks use)."""
    files, quarantine = fingerprint(raw_dir)
    extractions, more, stats = process(raw_dir, files, cache, include_contact_details, max_bytes, workers=workers)
    return extractions, quarantine + more, stats
