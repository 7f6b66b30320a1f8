"""Validation of the contract tables against their Table Schemas.

One entry point, `validate_tables`, gives the verdicts: types, required fields, enums, patterns,
minimums, unique fields, primary keys and foreign keys, with Frictionless' row numbering (the
header is row 1). The engine is vectorised pandas, so it checks hundreds of thousands of rows a
second; `frictionless_package_errors` runs Frictionless itself on a written package and is the
reference the fast engine must agree with. Nothing here writes files.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .metadata import SCHEMA_DIR, resources

ARROW_STRING = pd.StringDtype("pyarrow")
_TYPE_PATTERNS = {
    "integer": r"[+-]?\d+",
    "number": r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?",
    "boolean": r"true|false|True|TRUE|False|FALSE|1|0",
    "date": r"\d{4}-\d{2}-\d{2}",
}


@dataclass(frozen=True)
class ValidationError:
    resource: str
    row: int | None  # Frictionless numbering: header is row 1, first record row 2
    field: str | None
    code: str
    message: str

    def __str__(self) -> str:
        where = f"{self.resource}" + (f" row {self.row}" if self.row else "") + (f" field {self.field}" if self.field else "")
        return f"{where}: {self.code}: {self.message}"


def _rows(mask) -> list[int]:
    return [int(i) + 2 for i in np.flatnonzero(np.asarray(mask, dtype=bool))]


def _text(series: pd.Series) -> pd.Series:
    """Cells as Arrow strings ('' for missing): string tests then run in Arrow's C++ kernels (RE2
    for patterns), which is what lets validation pass 200,000 rows a second."""
    return series.astype(ARROW_STRING).fillna("")


def _isin(values: pd.Series, allowed) -> np.ndarray:
    """Membership by Arrow's hash kernel (pandas' isin on Arrow strings loops in Python)."""
    return pc.is_in(pa.array(values), value_set=pa.array(allowed, type=pa.large_string())
                    if isinstance(allowed, list) else pa.array(allowed)).to_numpy(zero_copy_only=False)


def _bools(series) -> np.ndarray:
    return np.asarray(series.fillna(False) if hasattr(series, "fillna") else series, dtype=bool)


def validate_table(name: str, df: pd.DataFrame, tables: dict[str, pd.DataFrame] | None = None,
                   limit: int = 1000) -> list[ValidationError]:
    """Errors of one resource; foreign keys are checked when the referenced tables are given."""
    res = resources()[name]
    errors: list[ValidationError] = []
    missing_cols = [c for c in res.columns if c not in df.columns]
    extra_cols = [c for c in df.columns if c not in res.columns]
    for col in missing_cols:
        errors.append(ValidationError(name, None, col, "missing-label", f"column '{col}' is missing"))
    for col in extra_cols:
        errors.append(ValidationError(name, None, col, "extra-label", f"column '{col}' is not in the schema"))
    if missing_cols:
        return errors
    df = df.reset_index(drop=True)
    for field in res.fields:
        col, ftype = field["name"], field.get("type", "string")
        cons = field.get("constraints", {})
        if not cons and ftype not in _TYPE_PATTERNS:
            continue  # an unconstrained string: nothing to check
        values = _text(df[col])
        present = _bools(values != "")
        if cons.get("required"):
            for row in _rows(~present):
                errors.append(ValidationError(name, row, col, "constraint-error", f"'{col}' is required"))
        if ftype in _TYPE_PATTERNS:
            bad = present & ~_bools(values.str.fullmatch(_TYPE_PATTERNS[ftype]))
            if ftype == "date":
                parsed = pd.to_datetime(values.where(present & ~bad), format="%Y-%m-%d", errors="coerce")
                bad = bad | (present & ~bad & _bools(parsed.isna()))
            for row in _rows(bad):
                errors.append(ValidationError(name, row, col, "type-error",
                                              f"'{df.at[row - 2, col]}' is not a valid {ftype}"))
            present = present & ~bad
        if "enum" in cons:
            bad = present & ~_isin(values, [str(v) for v in cons["enum"]])
            for row in _rows(bad):
                errors.append(ValidationError(name, row, col, "constraint-error",
                                              f"'{df.at[row - 2, col]}' is not one of {cons['enum']}"))
        if "pattern" in cons:
            bad = present & ~_bools(values.str.fullmatch(cons["pattern"]))
            for row in _rows(bad):
                errors.append(ValidationError(name, row, col, "constraint-error",
                                              f"'{df.at[row - 2, col]}' does not match {cons['pattern']!r}"))
        if "minimum" in cons and ftype in ("integer", "number"):
            numbers = pd.to_numeric(values.where(present), errors="coerce")
            for row in _rows(present & _bools(numbers < cons["minimum"])):
                errors.append(ValidationError(name, row, col, "constraint-error",
                                              f"{df.at[row - 2, col]} is below the minimum {cons['minimum']}"))
        if cons.get("unique"):
            dup = present & _bools(values.duplicated(keep="first"))
            for row in _rows(dup):
                errors.append(ValidationError(name, row, col, "unique-error", f"'{df.at[row - 2, col]}' is not unique"))
        if len(errors) >= limit:
            return errors[:limit]
    if res.primary_key:
        key = df[res.primary_key]
        dup = _bools(key.duplicated(keep="first")) & _bools(key.notna().all(axis=1))
        for row in _rows(dup):
            errors.append(ValidationError(name, row, ",".join(res.primary_key), "primary-key",
                                          f"primary key {tuple(str(v) for v in key.iloc[row - 2])} is not unique"))
    if tables is not None:
        for fk in res.foreign_keys:
            ref = fk["reference"]
            target = tables.get(ref["resource"])
            if target is None:
                errors.append(ValidationError(name, None, ",".join(fk["fields"]), "foreign-key",
                                              f"referenced resource '{ref['resource']}' is missing"))
                continue
            col, ref_col = fk["fields"][0], ref["fields"][0]
            values = _text(df[col])
            bad = _bools(values != "") & ~_isin(values, _text(target[ref_col].dropna()))
            for row in _rows(bad):
                errors.append(ValidationError(name, row, col, "foreign-key",
                                              f"'{df.at[row - 2, col]}' not found in {ref['resource']}.{ref_col}"))
    return errors[:limit]


def validate_tables(tables: dict[str, pd.DataFrame]) -> dict[str, list[ValidationError]]:
    """Errors per resource for a whole package's tables (empty lists when valid)."""
    return {name: validate_table(name, tables[name], tables) for name in resources() if name in tables}


FRICTIONLESS_FULL_ROWS = 50_000  # above this, Frictionless reads a sample: our engine checked every row


def frictionless_package_errors(descriptor_path: str, limit: int = 50, limit_rows: int | None = None,
                                check_integrity: bool = True) -> list[str]:
    """Frictionless' own verdict on a written package (descriptor, hashes, sizes and rows), as
    readable lines (empty when valid). For packages over FRICTIONLESS_FULL_ROWS rows, Frictionless
    (~10,000 rows/s) checks the descriptor and the first rows of each resource only (foreign keys
    left out), and hashes and sizes are checked by hashlib: every row has already passed
    `validate_tables`, which gives the same verdicts much faster (tests/test_validate.py).
    `check_integrity=False` skips re-hashing large packages' files, for a caller that has just
    computed the descriptor's hashes from those very files."""
    import json
    from pathlib import Path

    from frictionless import Package, validate

    path = Path(descriptor_path)
    desc = json.loads(path.read_text(encoding="utf-8"))
    if limit_rows is None:
        approx_rows = sum(r.get("bytes", 0) for r in desc["resources"] if r["path"].endswith(".csv")) // 80
        limit_rows = 1_000 if approx_rows > FRICTIONLESS_FULL_ROWS else None
    if not limit_rows:
        report = validate(descriptor_path)
    else:
        integrity = file_integrity_errors(path.parent) if check_integrity else []
        if integrity:
            return integrity
        Package(desc, basepath=str(path.parent))  # the whole descriptor: Frictionless raises on metadata errors
        # hashlib has checked hashes and sizes; Frictionless would re-read whole files (gigabytes
        # of dumps at 100,000 documents), so it gets the tables only and reads their first rows,
        # without foreign keys (it would load every referenced table whole to look them up)
        desc["resources"] = [{**{k: v for k, v in res.items() if k not in ("hash", "bytes", "schema")},
                              "schema": {k: v for k, v in res["schema"].items() if k != "foreignKeys"}}
                             for res in desc["resources"] if "schema" in res]
        report = Package(desc, basepath=str(path.parent)).validate(limit_rows=limit_rows)
    if report.valid:
        return []
    lines = []
    for task in report.tasks:
        for err in task.errors[:limit]:
            row = getattr(err, "row_number", None)
            field = getattr(err, "field_name", None)
            lines.append(f"{task.name}" + (f" row {row}" if row else "") + (f" field {field}" if field else "")
                         + f": {err.type}: {err.message}")
    for err in report.errors[:limit]:
        lines.append(f"package: {err.type}: {err.message}")
    return lines


def file_integrity_errors(release) -> list[str]:
    """Files of a release whose bytes differ from the hash or size in its datapackage.json."""
    import json

    from .publish import file_facts

    desc = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    errors = []
    for res in desc["resources"]:
        path = release / res["path"]
        if not path.exists():
            errors.append(f"{res['name']}: {res['path']} is missing")
            continue
        digest, size = file_facts(path)
        if res.get("bytes") is not None and size != res["bytes"]:
            errors.append(f"{res['name']}: {size} bytes, descriptor says {res['bytes']}")
        if res.get("hash") and res["hash"] != f"sha256:{digest}":
            errors.append(f"{res['name']}: sha256 differs from the descriptor's hash")
    return errors


SHAPES = SCHEMA_DIR / "shapes.ttl"


def graph_errors(nt: bytes, limit: int = 50) -> list[str]:
    """SHACL verdict on an N-Triples graph against schemas/shapes.ttl: one line per violation."""
    import pyshacl
    from rdflib import Graph, URIRef
    from rdflib.namespace import SH

    data = Graph().parse(data=nt, format="nt")
    shapes = Graph().parse(SHAPES, format="turtle")
    conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none", advanced=False,
                                           allow_warnings=False)
    if conforms:
        return []
    lines = []
    for result in report.subjects(URIRef(str(SH.resultSeverity)), None):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        message = report.value(result, SH.resultMessage)
        lines.append(f"{focus} {path}: {message}")
    return sorted(lines)[:limit]
