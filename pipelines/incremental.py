"""Incremental batches: fingerprint the raw folder, reuse earlier extractions, redo only what changed.

A document is re-read and re-extracted only when its bytes, its sidecar, its path or the
extractor version (or a setting that changes extraction) differ from a cached run; everything
else comes from an SQLite cache keyed by exactly those. A quarantined file is cached too (the
same bytes fail the same way). Belongs here: fingerprints, the cache, the batch loop shared by
`opendecisions run`, the schedule and the sensor. Not here: reading or extracting one document.
"""
from __future__ import annotations

import hashlib
import pickle
import sqlite3
import zlib
from dataclasses import dataclass
from pathlib import Path

from . import extract, ingest


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


def cache_key(raw: RawFile, settings_key: str) -> str:
    return hashlib.sha256("\0".join([raw.sha256, raw.sidecar_sha256 or "", raw.source_path,
                                     extract.EXTRACTOR_VERSION, settings_key]).encode()).hexdigest()


def process(raw_dir: Path, files: list[RawFile], cache: ExtractionCache | None = None,
            include_contact_details: bool = False, max_bytes: int = ingest.DEFAULT_MAX_BYTES,
            progress=None) -> tuple[list[extract.Extraction], list[dict], BatchStats]:
    """Extractions and quarantine rows for a fingerprinted batch; one bad file never stops it."""
    settings_key = f"contacts={include_contact_details};max_bytes={max_bytes}"
    stats = BatchStats(files=len(files))
    keys = [cache_key(f, settings_key) for f in files]
    cached = cache.get_many(keys) if cache else {}
    extractions, quarantine, fresh = [], [], {}
    first_path: dict[str, str] = {}
    for raw, key in zip(files, keys):
        if raw.sha256 in first_path:
            quarantine.append({"source_path": raw.source_path, "reason": "duplicate",
                               "detail": f"same bytes as {first_path[raw.sha256]}", "sha256": raw.sha256})
            stats.quarantined += 1
            continue
        result = cached.get(key)
        if result is None:
            result = _extract_one(raw_dir, raw, include_contact_details, max_bytes)
            fresh[key] = result
            stats.extracted += 1
        else:
            stats.reused += 1
        if isinstance(result, dict):
            quarantine.append(result)
            stats.quarantined += 1
        else:
            first_path[raw.sha256] = raw.source_path
            extractions.append(result)
        if progress:
            progress(raw.source_path)
    if cache and fresh:
        cache.put_many(fresh)
    return extractions, quarantine, stats


def _extract_one(raw_dir: Path, raw: RawFile, include_contact_details: bool, max_bytes: int):
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
                   max_bytes: int = ingest.DEFAULT_MAX_BYTES):
    """Fingerprint and process a whole folder (the path tests and benchmarks use)."""
    files, quarantine = fingerprint(raw_dir)
    extractions, more, stats = process(raw_dir, files, cache, include_contact_details, max_bytes)
    return extractions, quarantine + more, stats
