"""Publishing: validated tables into an immutable, versioned Frictionless data package.

A release is written to a temporary folder beside the releases, checked by Frictionless, then
moved into place with one rename, and `latest` is swapped atomically; a killed run leaves the
previous release whole. A release whose resources equal the latest release's is not published.
Belongs here: CSV bytes, datapackage.json, version numbers, the `latest` pointer.
Not here: building or validating the tables (tables.py, validate.py), Dagster.
"""
from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import polars as pl

from . import changes
from . import tables as tables_module  # `tables` names the DataFrames here
from .metadata import package_metadata, resources

PACKAGE_NAME = "council-decisions"
CSV_ZIP = "council-decisions-csv.zip"


@dataclass
class PublishResult:
    version: str | None
    path: Path | None
    published: bool
    message: str
    previous_version: str | None = None


def csv_zip_bytes(release: Path) -> bytes:
    """The release's CSVs and datapackage.json in one zip with fixed timestamps (reproducible)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(release.glob("*.csv")) + [release / "datapackage.json"]:
            info = zipfile.ZipInfo(f"{PACKAGE_NAME}/{path.name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o444 << 16
            zf.writestr(info, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    return buf.getvalue()


def pipeline_version() -> str:
    """Version of this code (package and extractor), recorded in every release's provenance."""
    from importlib.metadata import PackageNotFoundError, version

    from .extract import EXTRACTOR_VERSION

    try:
        package = version("opendecisions")
    except PackageNotFoundError:
        package = "unknown"
    return f"opendecisions {package} (extractor {EXTRACTOR_VERSION})"


def csv_bytes(df: pd.DataFrame | pl.DataFrame) -> bytes:
    """Deterministic CSV: UTF-8, '\\n' line ends, minimal quoting, empty cell for missing.
    Written by Polars (~10x faster than Python's csv module and byte-identical to it, except that a
    bare carriage return is quoted: tests/test_releases.py)."""
    header = (",".join(df.columns) + "\n").encode("utf-8")
    if not len(df):
        return header
    frame = df if isinstance(df, pl.DataFrame) else tables_module.polars_frame(df)
    body = frame.write_csv(None, include_header=False, quote_style="necessary", line_terminator="\n",
                                      null_value="")
    return header + body.encode("utf-8")


def created_timestamp(tables: dict[str, pd.DataFrame]) -> str:
    """From SOURCE_DATE_EPOCH, else the newest date stated in the inputs: never the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    dates = []
    for name, cols in (("decisions", ("decision_date", "publication_date", "effective_from")),
                       ("meetings", ("meeting_date",))):
        df = tables.get(name)
        if df is not None:
            for col in cols:
                dates.extend(d for d in df[col].dropna() if d)
    newest = max(dates) if dates else "1970-01-01"
    return f"{newest}T00:00:00Z"


FILE_RESOURCES = {  # extra files in a release: file name -> (resource name, format, media type, title)
    "graph.ttl": ("graph-turtle", "ttl", "text/turtle", "Linked data (Turtle)"),
    "graph.nt": ("graph-ntriples", "nt", "application/n-triples",
                 "Linked data (N-Triples: each document's triples together, sorted within it)"),
    "graph.jsonld": ("graph-jsonld", "jsonld", "application/ld+json", "Linked data (JSON-LD)"),
    "context.jsonld": ("jsonld-context", "jsonld", "application/ld+json", "JSON-LD context of graph.jsonld"),
    "CHANGELOG.md": ("changelog", "md", "text/markdown", "What changed since the previous release"),
    "changes.json": ("changes", "json", "application/json", "Record-level changes since the previous release"),
    "report.html": ("report", "html", "text/html", "Release report for readers"),
}


def file_facts(path: Path) -> tuple[str, int]:
    """sha256 and size of a file, read in blocks (dumps run to gigabytes)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest(), os.fstat(f.fileno()).st_size


def descriptor(version: str, tables: dict[str, pd.DataFrame], files: dict[str, bytes], created: str,
               extra: dict[str, Path] | None = None) -> dict:
    meta = package_metadata()
    res_list = []
    for name, res in resources().items():
        data = files[name]
        res_list.append({
            "name": name, "title": res.title, "description": res.description, "path": f"{name}.csv",
            "profile": "tabular-data-resource", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
            "hash": f"sha256:{hashlib.sha256(data).hexdigest()}", "bytes": len(data),
            "schema": res.table_schema,
        })
    for filename, path in (extra or {}).items():
        name, fmt, mediatype, title = FILE_RESOURCES[filename]
        digest, size = file_facts(path)
        res_list.append({"name": name, "title": title, "path": filename, "format": fmt, "mediatype": mediatype,
                         "encoding": "utf-8", "hash": f"sha256:{digest}", "bytes": size})
    sources = [{"title": "UK council decision documents (see documents.source_url)"},
               {"title": "mySociety UK Local Authority Names and Codes (CC-BY-4.0)",
                "path": "https://github.com/mysociety/uk_local_authority_names_and_codes"}]
    return {
        "profile": "data-package", "name": meta["name"], "title": meta["title"],
        "description": meta["description"], "version": version, "created": created,
        "homepage": meta.get("homepage"), "licenses": meta["licenses"], "sources": sources,
        "contributors": meta["contributors"], "resources": res_list,
    }


def release_root(published_dir: Path) -> Path:
    return published_dir / PACKAGE_NAME


def latest_release(published_dir: Path) -> Path | None:
    link = release_root(published_dir) / "latest"
    if link.is_symlink() or link.exists():
        target = link.resolve()
        return target if (target / "datapackage.json").exists() else None
    return None


def all_releases(published_dir: Path) -> list[Path]:
    """Release folders, oldest version first (the `latest` link and temporary folders excluded)."""
    root = release_root(published_dir)
    if not root.exists():
        return []
    found = [d for d in root.iterdir() if d.is_dir() and not d.is_symlink() and re.fullmatch(r"\d+\.\d+\.\d+", d.name)
             and (d / "datapackage.json").exists()]
    return sorted(found, key=lambda d: _version_tuple(d.name))


def _version_tuple(v: str) -> tuple[int, int, int]:
    major, minor, patch = (int(x) for x in v.split("."))
    return major, minor, patch


def publish_package(tables: dict[str, pd.DataFrame], published_dir: Path, validator=None,
                    extra_files=None) -> PublishResult:
    """Write a new release unless nothing changed; never overwrite an existing release.

    `extra_files(version, created, changes) -> {file name: bytes or Path}` adds files derived from
    the tables (linked-data dumps, the report); a Path is moved in, not copied. Whether anything
    changed is judged on the tables alone.
    One publisher at a time: an exclusive lock on the release folder serialises concurrent runs.

    `validator(descriptor_path) -> list[str]` checks the written package before it is moved into
    place; any error aborts the release and leaves earlier releases untouched.
    """
    root = release_root(published_dir)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _publish_locked(root, tables, published_dir, validator, extra_files)


def _publish_locked(root: Path, tables, published_dir: Path, validator, extra_files) -> PublishResult:
    frames = {name: tables_module.polars_frame(tables[name]) for name in resources()}  # converted once: CSV and diff
    files = {name: csv_bytes(frames[name]) for name in resources()}
    prev_dir = latest_release(published_dir)
    previous = json.loads((prev_dir / "datapackage.json").read_text(encoding="utf-8")) if prev_dir else None
    if previous:
        prev_hashes = {r["name"]: r.get("hash") for r in previous["resources"] if r["name"] in files}
        now_hashes = {n: f"sha256:{hashlib.sha256(b).hexdigest()}" for n, b in files.items()}
        if prev_hashes == now_hashes:
            return PublishResult(previous["version"], prev_dir, False,
                                 f"no changes since release {previous['version']}: nothing published",
                                 previous["version"])
    diffs = changes.compare(prev_dir, tables, frames)
    del frames  # a few hundred MB at 100,000 documents, not needed past the diff
    version = changes.bump(previous["version"] if previous else None, changes.schema_change(previous), diffs)
    final = root / version
    while final.exists():  # a release is never overwritten, even one 'latest' does not point at
        major, minor, patch = _version_tuple(version)
        version = f"{major}.{minor}.{patch + 1}"
        final = root / version
    for stale in root.glob(".tmp-*"):  # left by a killed run; we hold the publishing lock
        shutil.rmtree(stale, ignore_errors=True)
    tmp = root / f".tmp-{version}-{os.getpid()}"
    tmp.mkdir()
    try:
        for name, data in files.items():
            (tmp / f"{name}.csv").write_bytes(data)
        created = created_timestamp(tables)
        change_doc = changes.changes_document(version, previous["version"] if previous else None, created, diffs,
                                              changes.withdrawn_documents(prev_dir, tables, diffs))
        extra = {"CHANGELOG.md": changes.changelog_markdown(change_doc).encode("utf-8"),
                 "changes.json": changes.changes_json_bytes(change_doc)}
        extra.update(extra_files(version, created, change_doc) if extra_files else {})
        for filename, data in extra.items():
            if isinstance(data, Path):
                shutil.move(data, tmp / filename)
            else:
                (tmp / filename).write_bytes(data)
        desc = descriptor(version, tables, files, created, {filename: tmp / filename for filename in extra})
        (tmp / "datapackage.json").write_text(json.dumps(desc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (tmp / CSV_ZIP).write_bytes(csv_zip_bytes(tmp))  # the whole CSV package in one download
        if validator:
            errors = validator(str(tmp / "datapackage.json"))
            if errors:
                raise PackageInvalid(errors)
        for path in tmp.iterdir():
            os.chmod(path, 0o444)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    point_latest(root, version)
    return PublishResult(version, final, True, f"published release {version}",
                         previous["version"] if previous else None)


def point_latest(root: Path, version: str) -> None:
    """Swap the `latest` symlink in one atomic rename."""
    tmp_link = root / f".latest-{os.getpid()}"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    os.symlink(version, tmp_link)
    os.replace(tmp_link, root / "latest")


class PackageInvalid(Exception):
    def __init__(self, errors: list[str]):
        super().__init__("the package failed validation:\n" + "\n".join(errors[:20]))
        self.errors = errors
