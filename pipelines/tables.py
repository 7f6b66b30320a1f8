"""Tables: extraction rows into one pandas DataFrame per contract resource.

Cells hold their published text form (str or missing), so money stays exact, booleans are
'true'/'false' and the CSV writer has nothing left to decide. Column order and sort order
(primary key) come from the schemas in metadata.py. No validation and no I/O here.
"""
from __future__ import annotations

from decimal import Decimal

import pandas as pd

from .councils import register
from .metadata import resources

DEFAULT_BASE_URI = "https://opendecisions.uk/id/"


def cell_text(value) -> str | None:
    """The CSV text of one value: None stays missing, booleans lower-case, numbers exact."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, float):
        return repr(value) if value != int(value) else str(int(value))
    text = str(value)
    return text if text != "" else None


def frame(name: str, rows: list[dict]) -> pd.DataFrame:
    """A resource's DataFrame with schema columns in order, rows sorted by primary key."""
    res = resources()[name]
    data = {col: [cell_text(r.get(col)) for r in rows] for col in res.columns}
    df = pd.DataFrame(data, columns=res.columns, dtype=object)
    if res.primary_key and len(df):
        df = df.sort_values(res.primary_key, kind="stable").reset_index(drop=True)
    return df


def organisation_rows(council_ids, base_uri: str = DEFAULT_BASE_URI) -> list[dict]:
    reg = register()
    rows = []
    for code in sorted({c for c in council_ids if c}):
        council = reg.get(code)
        if council is None:
            continue
        rows.append({"council_id": code, "name": council.name, "gss_code": council.gss_code or None,
                     "organisation_type": council.type_name or None,
                     "uri": f"{base_uri.rstrip('/')}/organisation/{code}", "nation": council.nation or None,
                     "start_date": council.start or None, "end_date": council.end or None})
    return rows


def build_tables(extractions, quarantine_rows: list[dict], base_uri: str = DEFAULT_BASE_URI) -> dict[str, pd.DataFrame]:
    """All contract tables from a batch of Extraction objects and the quarantine list."""
    rows: dict[str, list[dict]] = {name: [] for name in resources()}
    for ex in extractions:
        rows["documents"].append(ex.document)
        for name in ("decisions", "meetings", "amounts", "posts", "people"):
            rows[name].extend(getattr(ex, name))
    rows["organisations"] = organisation_rows((d["council_id"] for d in rows["documents"]), base_uri)
    rows["quarantine"] = quarantine_rows
    return {name: frame(name, rows[name]) for name in resources()}


def for_documents(tables: dict[str, pd.DataFrame], document_ids) -> dict[str, pd.DataFrame]:
    """The rows that belong to some documents (all organisations kept: records link to them)."""
    ids = set(document_ids)
    return {name: df if "document_id" not in df.columns else df[df["document_id"].isin(ids)]
            for name, df in tables.items()}
