"""The Dagster code location: assets, checks, the job, its schedule and sensor, and resources. No logic."""
import dagster as dg

from . import assets as asset_module
from .checks import all_checks
from .resources import PipelineSettings
from .schedules import BATCH_JOB, MAIN_JOB, build_schedule, build_sensor


def build_definitions(settings: PipelineSettings | None = None, in_memory: bool = False) -> dg.Definitions:
    """`in_memory` keeps asset values in memory between steps: right for one in-process run
    (`opendecisions run`), where pickling every batch to disk would only cost time and space."""
    all_assets = dg.load_assets_from_modules([asset_module])
    batches = dg.AssetSelection.assets(asset_module.core_document_batch_extractions)
    job = dg.define_asset_job(MAIN_JOB, selection=dg.AssetSelection.all() - batches,
                              description="Read raw/, extract, validate and publish the council-decisions package.")
    batch_job = dg.define_asset_job(
        BATCH_JOB, selection=batches,
        description="Extract one batch of documents into the cache: backfill all 16 to spread a national "
                    "backfill over processes, pods or workers before the main job runs.")
    return dg.Definitions(assets=all_assets, asset_checks=all_checks, jobs=[job, batch_job],
                          schedules=[build_schedule(job)], sensors=[build_sensor(job)],
                          resources={"settings": settings or PipelineSettings(),
                                     **({"io_manager": dg.mem_io_manager} if in_memory else {})})


defs = build_definitions()
