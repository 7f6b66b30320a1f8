"""End-to-end: the CLI on a temporary copy of raw/, the Dagster definitions, blocking checks."""
import json
import subprocess
import sys

import dagster as dg

from conftest import REPO
from pipelines import tables as tables_module
from pipelines.definitions import MAIN_JOB, build_definitions, defs
from pipelines.resources import PipelineSettings
from pipelines.validate import frictionless_package_errors


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True,
                          cwd=REPO, env=env)


def test_cli_run_publishes_a_valid_package_then_nothing_on_rerun(raw_copy, tmp_path):
    published = tmp_path / "published"
    first = run_cli("run", "--raw", str(raw_copy), "--published", str(published))
    assert first.returncode == 0, first.stderr
    assert "documents read" in first.stdout and "checks passed" in first.stdout
    assert "published release 0.1.0" in first.stdout
    release = published / "council-decisions" / "0.1.0"
    assert (published / "council-decisions" / "latest").resolve() == release.resolve()
    desc = json.loads((release / "datapackage.json").read_text())
    assert desc["licenses"][0]["name"] == "OGL-UK-3.0" and desc["version"] == "0.1.0"
    assert {r["name"] for r in desc["resources"]} >= {"documents", "organisations", "decisions", "meetings",
                                                      "amounts", "posts", "people", "quarantine"}
    assert all(r["hash"].startswith("sha256:") and r["bytes"] > 0 for r in desc["resources"])
    assert frictionless_package_errors(str(release / "datapackage.json")) == []
    cli = subprocess.run([str(REPO / ".venv" / "bin" / "frictionless"), "validate", str(release / "datapackage.json")],
                         capture_output=True, text=True) if (REPO / ".venv" / "bin" / "frictionless").exists() else None
    if cli is not None:
        assert cli.returncode == 0, cli.stdout[-2000:]
    before = {p.name: p.read_bytes() for p in release.iterdir()}
    second = run_cli("run", "--raw", str(raw_copy), "--published", str(published))
    assert second.returncode == 0 and "inputs unchanged since release 0.1.0: nothing published" in second.stdout
    assert "rows: documents" not in second.stdout  # stopped before extracting anything
    assert {p.name: p.read_bytes() for p in release.iterdir()} == before
    assert sorted(p.name for p in (published / "council-decisions").iterdir() if not p.name.startswith(".")) == ["0.1.0", "latest"]


def test_cli_user_errors_are_one_line(tmp_path):
    missing = run_cli("run", "--raw", str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [f"error: raw folder not found: {tmp_path / 'nope'}"]
    assert "Traceback" not in missing.stderr
    bad_option = run_cli("run", "--frobnicate")
    assert bad_option.returncode == 2 and "Traceback" not in bad_option.stderr


def test_definitions_list_layered_assets_and_checks():
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw_council_documents", "core_document_extractions", "core_documents", "core_decisions",
            "out_council_decisions_package"} <= keys
    checks = {c.name for c in defs.resolve_asset_graph().asset_check_keys}
    assert {"documents_matches_schema", "amounts_matches_schema", "package_passes_frictionless"} <= checks


def test_failing_schema_check_blocks_publishing(raw_copy, tmp_path, monkeypatch):
    real = tables_module.build_tables

    def broken(*args, **kwargs):
        built = real(*args, **kwargs)
        amounts = built["amounts"].copy()
        amounts.loc[0, "category"] = "pocket money"
        built["amounts"] = amounts
        return built

    monkeypatch.setattr(tables_module, "build_tables", broken)
    settings = PipelineSettings(raw_dir=str(raw_copy), published_dir=str(tmp_path / "published"))
    result = build_definitions(settings).resolve_job_def(MAIN_JOB).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    failed = [c for c in result.get_asset_check_evaluations() if not c.passed]
    assert [c.check_name for c in failed] == ["amounts_matches_schema"]
    message = failed[0].metadata["first_errors"].value
    assert message.startswith("amounts row 2 field category: constraint-error")
    assert not (tmp_path / "published" / "council-decisions" / "latest").exists()
