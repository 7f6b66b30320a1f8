"""What changed between the latest release and the tables about to be published.

Belongs here: the record-level diff by primary key (added, removed, changed fields with old and
new values), withdrawn documents and why, the semantic version that follows from the diff, and
the changelog in JSON and Markdown. Not here: writing files (publish.py).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import polars as pl

from .metadata import resources
from .tables import polars_frame

FIRST_VERSION = "0.1.0"
MARKDOWN_LIST_LIMIT = 50


def read_release_frame(release: Path, name: str) -> pl.DataFrame | None:
    """A published table as cell texts (null for an empty cell), read by Polars' CSV reader."""
    path = release / f"{name}.csv"
    return pl.read_csv(path, infer_schema=False) if path.exists() else None


def read_release_table(release: Path, name: str) -> pd.DataFrame | None:
    """A published table as cell texts (None for an empty cell)."""
    df = read_release_frame(release, name)
    if df is None:
        return None
    return pd.DataFrame({c: pd.Series([v if v != "" else None for v in df[c].to_list()], dtype=object)
                         for c in df.columns}, columns=df.columns)


def _keyed(df: pl.DataFrame, keys: list[str], columns: list[str]) -> pl.DataFrame:
    """Primary key and a 64-bit hash of the row's cell texts: comparing 800,000 rows this way
    takes a fraction of a second, and only rows whose hashes differ are looked at closely."""
    return df.select(pl.concat_str([pl.col(k).fill_null("") for k in keys], separator="|").alias("_key"),
                     df.select(columns).hash_rows(seed=0).alias("_hash"))


def diff_table(name: str, old: pd.DataFrame | pl.DataFrame | None, new: pd.DataFrame | pl.DataFrame) -> dict:
    """Records added, removed and changed (with per-field old/new values) by primary key."""
    keys = resources()[name].primary_key
    b_all = new if isinstance(new, pl.DataFrame) else polars_frame(new)
    if old is None or len(old) == 0:
        return {"added": sorted(_keyed(b_all, keys, b_all.columns)["_key"].to_list()) if len(b_all) else [],
                "removed": [], "changed": []}
    a_all = old if isinstance(old, pl.DataFrame) else polars_frame(old)
    common_cols = [c for c in b_all.columns if c in a_all.columns]
    a_all, b_all = a_all.select(common_cols), b_all.select(common_cols)
    a, b = _keyed(a_all, keys, common_cols), _keyed(b_all, keys, common_cols)
    added = sorted(b.join(a, on="_key", how="anti")["_key"].to_list())
    removed = sorted(a.join(b, on="_key", how="anti")["_key"].to_list())
    both = a.join(b, on="_key", how="inner", suffix="_new")
    differ = sorted(both.filter(pl.col("_hash") != pl.col("_hash_new"))["_key"].to_list())
    changed = []
    if differ:
        old_rows = {r["_key"]: r for r in a_all.with_columns(a["_key"]).filter(pl.col("_key").is_in(differ)).to_dicts()}
        new_rows = {r["_key"]: r for r in b_all.with_columns(b["_key"]).filter(pl.col("_key").is_in(differ)).to_dicts()}
        for key in differ:
            fields = {c: {"old": old_rows[key][c], "new": new_rows[key][c]} for c in common_cols
                      if (old_rows[key][c] or "") != (new_rows[key][c] or "")}
            if fields:
                changed.append({"key": key, "fields": fields})
    return {"added": added, "removed": removed, "changed": changed}


def schema_change(previous: dict | None) -> str | None:
    """'major' if a resource or field went away or changed type; 'minor' if fields were added."""
    if previous is None:
        return None
    prev_res = {r["name"]: r for r in previous["resources"] if "schema" in r}
    now = resources()
    for name, res in prev_res.items():
        if name not in now:
            return "major"
        prev_fields = {f["name"]: f.get("type", "string") for f in res["schema"]["fields"]}
        now_fields = {f["name"]: f.get("type", "string") for f in now[name].fields}
        if any(n not in now_fields or now_fields[n] != t for n, t in prev_fields.items()):
            return "major"
    for name, res in now.items():
        if name not in prev_res or len(res.fields) != len(prev_res[name]["schema"]["fields"]):
            return "minor"
    return None


def bump(previous_version: str | None, schema: str | None, diffs: dict[str, dict]) -> str:
    """MAJOR: resource or field removed/renamed/retyped; MINOR: records or fields added or
    removed; PATCH: only values corrected."""
    if previous_version is None:
        return FIRST_VERSION
    major, minor, patch = (int(x) for x in previous_version.split("."))
    if schema == "major":
        return f"{major + 1}.0.0"
    if schema == "minor" or any(d["added"] or d["removed"] for d in diffs.values()):
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def compare(previous_dir: Path | None, tables: dict[str, pd.DataFrame],
            frames: dict[str, pl.DataFrame] | None = None) -> dict[str, dict]:
    return {name: diff_table(name, read_release_frame(previous_dir, name) if previous_dir else None,
                             (frames or {}).get(name, tables[name]))
            for name in resources()}


def withdrawn_documents(previous_dir: Path | None, tables: dict[str, pd.DataFrame], diffs: dict) -> list[dict]:
    """Documents in the previous release that are gone now, with why (removed or quarantined)."""
    if previous_dir is None or not diffs["documents"]["removed"]:
        return []
    old = read_release_table(previous_dir, "documents").set_index("document_id")
    quarantined = dict(zip(tables["quarantine"]["source_path"], tables["quarantine"]["reason"]))
    out = []
    for doc_id in diffs["documents"]["removed"]:
        path = old.at[doc_id, "source_path"]
        reason = (f"quarantined ({quarantined[path]})" if path in quarantined
                  else "no longer in the raw folder")
        out.append({"document_id": doc_id, "source_path": path, "reason": reason})
    return out


def changes_document(version: str, previous_version: str | None, created: str, diffs: dict,
                     withdrawn: list[dict]) -> dict:
    return {
        "version": version, "previous_version": previous_version, "created": created,
        "summary": {n: {k: len(v) for k, v in d.items()} for n, d in diffs.items()},
        "withdrawn_documents": withdrawn,
        "changes": diffs,
    }


def _fmt(value) -> str:
    if value is None:
        return "(empty)"
    text = str(value).replace("\n", " ").replace("|", "\\|")
    return f"`{text[:120]}`" + ("…" if len(text) > 120 else "")


def changelog_markdown(changes: dict) -> str:
    prev = changes["previous_version"]
    lines = [f"# council-decisions {changes['version']}", "",
             f"Released {changes['created']}" + (f"; compared with release {prev}." if prev else "; first release."), ""]
    lines += ["| resource | added | removed | changed |", "|---|---:|---:|---:|"]
    lines += [f"| {n} | {s['added']} | {s['removed']} | {s['changed']} |" for n, s in changes["summary"].items()]
    if changes["withdrawn_documents"]:
        lines += ["", "## Withdrawn documents", "",
                  "These documents' records are withdrawn in this release:", ""]
        lines += [f"- `{w['source_path']}` ({w['document_id']}): {w['reason']}" for w in changes["withdrawn_documents"]]
    for name, diff in changes["changes"].items():
        if not any(diff.values()):
            continue
        lines += ["", f"## {name}"]
        for kind in ("added", "removed"):
            keys = diff[kind]
            if keys:
                lines += ["", f"{kind.capitalize()} ({len(keys)}):", ""]
                lines += [f"- {k}" for k in keys[:MARKDOWN_LIST_LIMIT]]
                if len(keys) > MARKDOWN_LIST_LIMIT:
                    lines.append(f"- … and {len(keys) - MARKDOWN_LIST_LIMIT} more (see changes.json)")
        if diff["changed"]:
            lines += ["", f"Changed ({len(diff['changed'])}):", ""]
            for item in diff["changed"][:MARKDOWN_LIST_LIMIT]:
                fields = "; ".join(f"{f}: {_fmt(v['old'])} → {_fmt(v['new'])}" for f, v in item["fields"].items())
                lines.append(f"- {item['key']}: {fields}")
            if len(diff["changed"]) > MARKDOWN_LIST_LIMIT:
                lines.append(f"- … and {len(diff['changed']) - MARKDOWN_LIST_LIMIT} more (see changes.json)")
    return "\n".join(lines) + "\n"


def changes_json_bytes(changes: dict) -> bytes:
    return (json.dumps(changes, indent=1, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")
