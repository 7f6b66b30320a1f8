"""Small helpers for tests: run the domain pipeline without Dagster."""
from pathlib import Path

from pipelines.incremental import process_folder
from pipelines.tables import build_tables


def tables_for(raw: Path, include_contact_details: bool = False, cache=None):
    extractions, quarantine, _ = process_folder(raw, cache, include_contact_details)
    return build_tables(extractions, quarantine)


def by_source(tables, name: str, source_path: str):
    doc = tables["documents"]
    ids = doc.loc[doc.source_path == source_path, "document_id"].tolist()
    assert ids, f"{source_path} not published"
    df = tables[name]
    return df[df.document_id == ids[0]] if name != "documents" else doc[doc.document_id == ids[0]]
