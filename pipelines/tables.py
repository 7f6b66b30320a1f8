"""Tables: extraction rows into one pandas DataFrame per contract resource.

Cells hold their published text form (str or missing), so money stays exact, booleans are
'true'/'false' and the CSV writer has nothing left to decide. Column order and sort order
(primary key) come from the schemas in metadata.py. No validation and no I/O here.
"""
from __future__ import annotations

from decimal import Decimal

import pandas as pd
import polars as pl

from .councils import register
from .metadata import resources

DEFAULT_BASE_URI = "https://opendecisions.uk/id/"
DOCUMENT_TABLES = ("decisions", "meetings", "amounts", "posts", "people")  # besides "documents"


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


def row_tuple(name: str, row: dict) -> tuple:
    """One row as the tuple of its published cell texts, in the schema's column order."""
    return tuple(cell_text(row.get(col)) for col in resources()[name].columns)


def document_rows(ex) -> dict[str, list[tuple]]:
    """The rows one Extraction contributes to each document-derived table, as cell-text tuples:
    compact to cache and to hold for 100,000 documents, and what the RDF mapping reads."""
    return {"documents": [row_tuple("documents", ex.document)],
            **{name: [row_tuple(name, r) for r in getattr(ex, name)] for name in DOCUMENT_TABLES}}



def frame_from_tuples(name: str, rows: list[tuple]) -> pd.DataFrame:
    """A resource's DataFrame (object columns: str or None) from cell-text tuples, sorted by primary key."""
    res = resources()[name]
    columns = list(zip(*rows)) if rows else [()] * len(res.columns)
    df = pd.DataFrame({col: pd.Series(values, dtype=object) for col, values in zip(res.columns, columns)},
                      columns=res.columns)
    if res.primary_key and len(df):
        df = df.sort_values(res.primary_key, kind="stable").reset_index(drop=True)
    return df


def polars_frame(df: pd.DataFrame) -> pl.DataFrame:
    """A table's cell texts as a Polars frame of strings (missing stays null): for the CSV writer
    and the release diff."""
    return pl.DataFrame({col: pl.Series(col, df[col].tolist(), dtype=pl.String) for col in df.columns})


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


def organisation_tuples(document_tuples, base_uri: str = DEFAULT_BASE_URI) -> list[tuple]:
    """Rows of the organisations table for the councils some documents (as tuples) name."""
    council_col = resources()["documents"].columns.index("council_id")
    return [row_tuple("organisations", r)
            for r in organisation_rows((d[council_col] for d in document_tuples), base_uri)]


def build_tables(extractions, quarantine_rows: list[dict], base_uri: str = DEFAULT_BASE_URI) -> dict[str, pd.DataFrame]:
    """All contract tables from a batch of documents' rows (or Extraction objects) and the quarantine list."""
    rows: dict[str, list[tuple]] = {name: [] for name in resources()}
    for ex in extractions:
        for name, table_rows in (ex.rows if hasattr(ex, "rows") else document_rows(ex)).items():
            rows[name].extend(table_rows)
    rows["organisations"] = organisation_tuples(rows["documents"], base_uri)
    rows["quarantine"] = [row_tuple("quarantine", r) for r in quarantine_rows]
    return {name: frame_from_tuples(name, rows[name]) for name in resources()}
