"""Document batches as Dagster partitions: partition runs (in parallel, under the multiprocess
executor) fill the extraction cache, and the main job then extracts nothing again."""
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from conftest import DEV, REPO
from pipelines import incremental
from pipelines.definitions import BATCH_JOB, MAIN_JOB, build_definitions
from pipelines.resources import PipelineSettings

BIN = Path(sys.executable).parent


def batches_of(raw: Path) -> list[str]:
    files, _ = incremental.fingerprint(raw)
    return sorted({incremental.batch_of(f.source_path) for f in files})


def test_partition_runs_fill_the_cache_for_the_main_job(raw_copy, tmp_path):
    for path in sorted(DEV.glob("*.txt"))[:12]:  # enough documents to fill several batches
        (raw_copy / path.name).write_bytes(path.read_bytes())
    settings = PipelineSettings(raw_dir=str(raw_copy), published_dir=str(tmp_path / "published"))
    defs = build_definitions(settings)
    batches = batches_of(raw_copy)
    assert len(batches) >= 4
    instance = dg.DagsterInstance.ephemeral()
    for key in batches:
        assert defs.resolve_job_def(BATCH_JOB).execute_in_process(partition_key=key, instance=instance).success
    files, _ = incremental.fingerprint(raw_copy)
    cache = incremental.ExtractionCache(settings.cache_path / "extractions.sqlite")
    try:
        _, _, stats = incremental.process(raw_copy, files, cache, base_uri=settings.base_uri)
    finally:
        cache.close()
    assert stats.extracted == 0 and stats.reused == len(files)
    result = defs.resolve_job_def(MAIN_JOB).execute_in_process(instance=instance)
    extracted = [m for m in result.asset_materializations_for_node("core_document_extractions")]
    assert extracted[0].metadata["extracted"].value == 0
    assert (tmp_path / "published" / "council-decisions" / "latest").exists()


def test_two_partitions_run_at_once_under_the_multiprocess_executor(raw_copy, tmp_path):
    """Two partition runs launched side by side by the dagster CLI (multiprocess executor, one
    process per step) write to the same cache without losing each other's documents."""
    for path in sorted(DEV.glob("*.txt"))[:12]:
        (raw_copy / path.name).write_bytes(path.read_bytes())
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("")
    published = tmp_path / "published"
    env = {**os.environ, "DAGSTER_HOME": str(home), "OPENDECISIONS_RAW_DIR": str(raw_copy),
           "OPENDECISIONS_PUBLISHED_DIR": str(published)}
    first, second = batches_of(raw_copy)[:2]
    migrate = subprocess.run([str(BIN / "dagster"), "instance", "migrate"], env=env, capture_output=True, text=True)
    assert migrate.returncode == 0, migrate.stderr  # the instance's storage exists before runs share it
    procs = [subprocess.Popen([str(BIN / "dagster"), "job", "execute", "-m", "pipelines.definitions", "-j", BATCH_JOB,
                               "--tags", f'{{"dagster/partition": "{key}"}}'],
                              cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for key in (first, second)]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n".join(o[-3000:] for o in outputs)
    assert all("multiprocess" in o.lower() or "Launching subprocess" in o for o in outputs)
    files, _ = incremental.fingerprint(raw_copy)
    wanted = [f for f in files if incremental.batch_of(f.source_path) in (first, second)]
    cache = incremental.ExtractionCache(published / ".cache" / "extractions.sqlite")
    try:
        _, _, stats = incremental.process(raw_copy, wanted, cache)
    finally:
        cache.close()
    assert stats.extracted == 0 and stats.reused == len(wanted) > 0
