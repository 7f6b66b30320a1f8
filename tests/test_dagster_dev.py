"""`dagster dev` (through workspace.yaml) serves the assets and their checks; the test stops it."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO

QUERY = """{ assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks { checks { name } } } } }"""


AUTOMATION = """{ workspaceOrError { ... on Workspace { locationEntries { locationOrLoadError {
  ... on RepositoryLocation { repositories { schedules { name cronSchedule } sensors { name } } } } } } } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.fixture
def dagster_dev(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("")
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "OPENDECISIONS_PUBLISHED_DIR": str(tmp_path / "published")}
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.Popen([str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        yield port, proc
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_for_assets(port: int, proc, timeout: float = 120) -> dict:
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        assert proc.poll() is None, "dagster dev exited early"
        try:
            data = _graphql(port, QUERY)
            if data.get("data", {}).get("assetNodes"):
                return data
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(1)
    raise AssertionError(f"dagster dev did not serve assets within {timeout}s: {last}")


def test_dagster_dev_shows_assets_and_checks(dagster_dev):
    port, proc = dagster_dev
    nodes = wait_for_assets(port, proc)["data"]["assetNodes"]
    assets = {"/".join(n["assetKey"]["path"]): [c["name"] for c in n["assetChecksOrError"].get("checks", [])]
              for n in nodes}
    assert "raw_council_documents" in assets and "out_council_decisions_package" in assets
    assert assets["core_decisions"] == ["decisions_matches_schema"]
    assert assets["out_council_decisions_package"] == ["package_passes_frictionless"]
    assert assets["core_council_decisions_graph"] == ["graph_conforms_to_shapes"]
    repos = _graphql(port, AUTOMATION)["data"]["workspaceOrError"]["locationEntries"][0]["locationOrLoadError"]
    repo = repos["repositories"][0]
    assert [s["name"] for s in repo["schedules"]] == ["daily_council_decisions"]
    assert [s["name"] for s in repo["sensors"]] == ["raw_folder_changed"]
    assert repo["schedules"][0]["cronSchedule"] == "0 6 * * *"
