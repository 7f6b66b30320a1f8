"""The fast validator gives the same verdicts as Frictionless on planted errors."""
import json


from helpers import tables_for
from pipelines.publish import csv_bytes, descriptor
from pipelines.validate import frictionless_package_errors, validate_tables


def plant_errors(tables):
    t = {k: v.copy() for k, v in tables.items()}
    a = t["amounts"]
    a.loc[0, "amount_gbp"] = "lots"                      # type
    a.loc[1, "category"] = "windfall"                    # enum
    a.loc[2, "context"] = None                           # required
    a.loc[3, "amount_id"] = a.loc[4, "amount_id"]        # unique / primary key
    a.loc[5, "document_id"] = "doc-0000000000000000"     # foreign key
    t["decisions"].loc[0, "decision_date"] = "2021-02-30"  # impossible date
    return t


def test_planted_errors_same_verdicts_as_frictionless(raw_copy, tmp_path):
    tables = plant_errors(tables_for(raw_copy))
    ours = {(e.resource, e.row, e.field.split(",")[0] if e.field else None)
            for errs in validate_tables(tables).values() for e in errs}
    files = {name: csv_bytes(df) for name, df in tables.items()}
    for name, data in files.items():
        (tmp_path / f"{name}.csv").write_bytes(data)
    (tmp_path / "datapackage.json").write_text(json.dumps(descriptor("0.0.1", tables, files, "2020-01-01T00:00:00Z")))
    theirs = frictionless_package_errors(str(tmp_path / "datapackage.json"))
    assert ("amounts", 2, "amount_gbp") in ours and ("amounts", 3, "category") in ours
    assert ("amounts", 4, "context") in ours and ("amounts", 7, "document_id") in ours
    assert ("decisions", 2, "decision_date") in ours
    assert any(e[0] == "amounts" and e[2] == "amount_id" for e in ours)
    for resource, row, field in [("amounts", 2, "amount_gbp"), ("amounts", 3, "category"),
                                 ("amounts", 4, "context"), ("decisions", 2, "decision_date")]:
        assert any(line.startswith(f"{resource} row {row} field {field}") for line in theirs), theirs
    assert any("amounts" in line and "foreign-key" in line for line in theirs)
    assert any("amounts" in line and ("primary-key" in line or "unique" in line) for line in theirs)


def test_clean_tables_pass():
    from conftest import REPO

    assert all(not errs for errs in validate_tables(tables_for(REPO / "raw")).values())


def test_file_integrity_check_catches_a_tampered_release(raw_copy, tmp_path):
    import os

    from pipelines.publish import publish_package
    from pipelines.validate import file_integrity_errors

    result = publish_package(tables_for(raw_copy), tmp_path / "pub")
    assert file_integrity_errors(result.path) == []
    target = result.path / "amounts.csv"
    os.chmod(target, 0o644)
    target.write_bytes(target.read_bytes().replace(b"216000", b"216001"))
    assert file_integrity_errors(result.path) == ["amounts: sha256 differs from the descriptor's hash"]
