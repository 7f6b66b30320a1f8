"""Dagster run storage on a real PostgreSQL server (the "Running at scale" configuration).

The test starts its own PostgreSQL server from Debian's packages (.ci/run installs them), points
DAGSTER_HOME at a dagster.yaml using dagster-postgres, runs the main job, reads the run back from
PostgreSQL, and stops the server.
"""
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import textwrap
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import MAIN_JOB, build_definitions
from pipelines.resources import PipelineSettings


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else shutil.which("initdb") and os.path.dirname(shutil.which("initdb"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres(tmp_path):
    bindir = _pg_bin()
    if not bindir:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is required in CI (.ci/run installs Debian's postgresql)")
        pytest.skip("PostgreSQL server binaries not installed")
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="opendecisions-pg-"))  # pytest's tmp dirs are private to root
    if run_as:
        shutil.chown(base, "postgres", "postgres")
    data, port = base / "data", _free_port()
    subprocess.run([*run_as, f"{bindir}/initdb", "-D", str(data), "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    subprocess.run([*run_as, f"{bindir}/pg_ctl", "-D", str(data), "-l", str(base / "log"), "-w", "-o",
                    f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "start"], check=True, capture_output=True)
    try:
        subprocess.run([f"{bindir}/psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-c",
                        "CREATE DATABASE dagster"], check=True, capture_output=True)
        yield port
    finally:
        subprocess.run([*run_as, f"{bindir}/pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_runs_are_stored_in_postgres(postgres, raw_copy, tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(textwrap.dedent(f"""
        storage:
          postgres:
            postgres_db:
              username: postgres
              password: ""
              hostname: 127.0.0.1
              db_name: dagster
              port: {postgres}
              scheme: postgresql+psycopg2
    """))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    settings = PipelineSettings(raw_dir=str(raw_copy), published_dir=str(tmp_path / "published"))
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        result = build_definitions(settings).resolve_job_def(MAIN_JOB).execute_in_process(instance=instance)
        assert result.success
        [record] = instance.get_run_records()
        assert record.dagster_run.run_id == result.run_id and record.dagster_run.is_success
    import psycopg2

    with psycopg2.connect(host="127.0.0.1", port=postgres, user="postgres", dbname="dagster") as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM runs WHERE run_id = %s", (result.run_id,))
            assert cur.fetchone()[0] == 1
            cur.execute("SELECT count(*) FROM event_logs WHERE run_id = %s", (result.run_id,))
            assert cur.fetchone()[0] > 10
    assert (tmp_path / "published" / "council-decisions" / "latest" / "datapackage.json").exists()
