"""Dagster assets, layered raw -> core -> out. Thin: each asset calls one domain function.

raw_*: documents as read from the raw folder. core_*: extracted, typed tables (one asset per
contract resource) and the graph. out_*: published artefacts. Whole batches flow through each
asset: no per-document ops or runs, so the fixed Dagster cost is paid once per run; inside the
extraction asset the work spreads over one process per core. `core_document_batch_extractions`
is the same extraction partitioned into 16 document batches, for backfills spread over many
processes or machines (its runs fill the shared cache the main job then reads).
"""

import os
import pickle
import shutil
from functools import partial
from pathlib import Path

import dagster as dg
import pandas as pd

from . import catalog, extract, incremental, publish, rdf, report, shacl, tables, validate
from .checks import (TABLE_ASSETS, graph_check_result, graph_check_spec, schema_check_results,
                     schema_check_specs)
from .metadata import resources
from .resources import PipelineSettings


@dg.asset(group_name="raw", kinds={"python"},
          description="Fingerprints (SHA-256 of bytes and sidecar) of every file under the raw folder.")
def raw_council_documents(context: dg.AssetExecutionContext, settings: PipelineSettings) -> dict:
    files, quarantine = incremental.fingerprint(settings.raw_path, settings.cache_path / "fingerprints.pickle")
    context.add_output_metadata({"files": len(files), "stray_files": len(quarantine)})
    return {"files": files, "quarantine": quarantine}


DOCUMENT_BATCHES = dg.StaticPartitionsDefinition(list(incremental.BATCHES))


@dg.asset(group_name="core", kinds={"python", "sqlite"}, partitions_def=DOCUMENT_BATCHES,
          description="One batch of documents (those whose ID starts with the partition's hex digit) read, "
                      "extracted, mapped to RDF and SHACL-checked into the extraction cache. A backfill of the "
                      "16 batches spreads a national backfill over as many processes, pods (dagster-k8s) or "
                      "workers (dagster-celery) as the run coordinator allows; the main job then finds every "
                      "document cached. Not needed for daily runs: the main job extracts what is missing itself.")
def core_document_batch_extractions(context: dg.AssetExecutionContext, settings: PipelineSettings):
    files, _ = incremental.fingerprint(settings.raw_path, batch=context.partition_key)
    cache = incremental.ExtractionCache(settings.cache_path / "extractions.sqlite")
    try:
        documents, quarantine, stats = incremental.process(
            settings.raw_path, files, cache, settings.include_contact_details, settings.max_bytes, workers=1,
            base_uri=settings.base_uri)
    finally:
        cache.close()
    return dg.MaterializeResult(metadata={"documents": len(documents), "extracted": stats.extracted,
                                          "reused_from_cache": stats.reused, "quarantined": stats.quarantined,
                                          "shacl_violations": sum(len(d.violations) for d in documents)})


def _signature(settings: PipelineSettings, raw: dict) -> str:
    return incremental.inputs_signature(raw["files"], raw["quarantine"], settings.include_contact_details,
                                        settings.max_bytes, settings.base_uri, settings.labels_dir)


@dg.multi_asset(
    deps=[core_document_batch_extractions],
    outs={"core_document_extractions": dg.AssetOut(
        group_name="core", kinds={"python", "sqlite"}, is_required=False,
        description="Fields, money, posts and people extracted from each document, with its linked-data "
                    "fragment and SHACL verdict; unchanged documents come from the extraction cache (keyed by bytes, sidecar, path and extractor version). Not "
                    "produced when the inputs are exactly those of the latest release: then nothing "
                    "downstream runs and nothing is published.")},
)
def core_document_extractions(context: dg.AssetExecutionContext, settings: PipelineSettings,
                              raw_council_documents: dict):
    signature = _signature(settings, raw_council_documents)
    latest = publish.latest_release(settings.published_path)
    if incremental.PublishedInputs(settings.cache_path / "published_inputs.json").matches(
            signature, latest.name if latest else None):
        context.log.info(f"inputs unchanged since release {latest.name}: nothing to do")
        return
    cache = incremental.ExtractionCache(settings.cache_path / "extractions.sqlite")
    try:
        documents, failed, stats = incremental.process(
            settings.raw_path, raw_council_documents["files"], cache, settings.include_contact_details,
            settings.max_bytes, base_uri=settings.base_uri)
    finally:
        cache.close()
    yield dg.Output({"documents": documents, "quarantine": raw_council_documents["quarantine"] + failed,
                     "stats": stats, "signature": signature},
                    output_name="core_document_extractions",
                    metadata={"extracted": stats.extracted, "reused_from_cache": stats.reused,
                              "quarantined": stats.quarantined, "extractor_version": extract.EXTRACTOR_VERSION})


@dg.multi_asset(
    outs={key: dg.AssetOut(group_name="core", kinds={"pandas"}, description=resources()[name].description)
          for name, key in TABLE_ASSETS.items()},
    check_specs=schema_check_specs(),
)
def core_council_decisions_tables(settings: PipelineSettings, core_document_extractions: dict):
    built = tables.build_tables(core_document_extractions["documents"], core_document_extractions["quarantine"],
                                settings.base_uri)
    for name, key in TABLE_ASSETS.items():
        yield dg.Output(built[name], output_name=key, metadata={"rows": len(built[name])})
    yield from schema_check_results(built)


GRAPH_INDEX = "graph-index.pickle"  # in the cache folder: where each document lies in the last release's dumps


def _previous_dumps(settings: PipelineSettings) -> tuple[Path, incremental.GraphIndex] | None:
    index = incremental.GraphIndex.load(settings.cache_path / GRAPH_INDEX)
    if index is None:
        return None
    release = publish.release_root(settings.published_path) / index.version
    return (release, index) if all((release / name).exists() for name in rdf.DUMPS) else None


@dg.multi_asset(
    outs={"core_council_decisions_graph": dg.AssetOut(
        group_name="core", kinds={"rdf"},
        description="The validated tables as RDF, following the schemas' rdf mappings: the dumps' files, "
                    "streamed from each document's cached fragment into a work folder.")},
    ins={"core_organisations": dg.AssetIn("core_organisations"),
         "core_document_extractions": dg.AssetIn("core_document_extractions")},
    check_specs=[graph_check_spec()],
)
def core_council_decisions_graph(settings: PipelineSettings, core_document_extractions: dict,
                                 core_organisations: pd.DataFrame):
    documents = core_document_extractions["documents"]
    spool = settings.cache_path / "graph-spool" / f"{os.getpid()}"
    shutil.rmtree(spool, ignore_errors=True)
    cache = incremental.ExtractionCache(settings.cache_path / "extractions.sqlite")
    try:
        writer, common, index = incremental.write_graph(documents, core_organisations, spool, settings.base_uri,
                                                        cache, _previous_dumps(settings))
    finally:
        cache.close()
    writer.pause()
    (spool / "index.pickle").write_bytes(pickle.dumps(index, protocol=5))
    yield dg.Output({"folder": str(spool), "triples": writer.triples}, output_name="core_council_decisions_graph",
                    metadata={"triples": writer.triples})
    # SHACL scales with what changed: each document was checked (in the extraction workers) when it
    # was extracted, and the verdict is cached with it; what no document owns is checked here.
    yield graph_check_result([v for d in documents for v in d.violations] + shacl.graph_errors_fast(rdf.nt_bytes(common)),
                             len(core_document_extractions["stats"].fresh_documents), len(documents))


@dg.asset(group_name="out", kinds={"frictionless", "csv", "rdf"},
          ins={**{key: dg.AssetIn(key) for key in TABLE_ASSETS.values()},
               "core_council_decisions_graph": dg.AssetIn("core_council_decisions_graph"),
               "core_document_extractions": dg.AssetIn("core_document_extractions")},
          description="The council-decisions Frictionless data package with its linked-data dumps, "
                      "as an immutable versioned release.")
def out_council_decisions_package(context: dg.AssetExecutionContext, settings: PipelineSettings,
                                  core_council_decisions_graph: dict, core_document_extractions: dict,
                                  **tables_in: pd.DataFrame) -> dg.MaterializeResult:
    built = {name: tables_in[key] for name, key in TABLE_ASSETS.items()}

    checks = [spec.name for spec in schema_check_specs()] + [graph_check_spec().name]

    def derived_files(version: str, created: str, change_doc: dict) -> dict[str, bytes]:
        run = rdf.release_lines(settings.base_uri, version, created, publish.pipeline_version(), built["documents"])
        files: dict = rdf.GraphWriter.resume(Path(core_council_decisions_graph["folder"]), run).close()
        score = report.extraction_score(built, Path(settings.labels_dir) if settings.labels_dir else None)
        files["report.html"] = report.render_report(built, change_doc, checks, score)
        return files

    spool = Path(core_council_decisions_graph["folder"])
    try:
        # the descriptor's hashes are computed from the files just written: no need to hash 2 GB again
        # before the move (the package_passes_frictionless check re-hashes the published release)
        result = publish.publish_package(built, settings.published_path,
                                         partial(validate.frictionless_package_errors, check_integrity=False),
                                         derived_files)
        if result.published:  # the next run copies unchanged documents' triples from this release
            index = pickle.loads((spool / "index.pickle").read_bytes())
            incremental.write_atomic(settings.cache_path / GRAPH_INDEX,
                                     pickle.dumps(incremental.GraphIndex(result.version, index), protocol=5))
    finally:
        shutil.rmtree(spool, ignore_errors=True)
    if result.published or not (settings.published_path / "catalog.ttl").exists():
        catalog.write_catalog(settings.published_path, settings.base_uri, settings.download_base)
    incremental.PublishedInputs(settings.cache_path / "published_inputs.json").record(
        core_document_extractions["signature"], result.version)
    context.log.info(result.message)
    return dg.MaterializeResult(metadata={
        "version": result.version or "", "path": str(result.path or ""), "published": result.published,
        "message": result.message, **{f"rows_{n}": len(df) for n, df in built.items()}})
