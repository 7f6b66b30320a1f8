"""The Dagster code location: assets, checks, jobs and resources put together. No logic."""

import dagster as dg

from . import assets as asset_module
from .checks import all_checks
from .resources import PipelineSettings

MAIN_JOB = "council_decisions_job"


def build_definitions(settings: PipelineSettings | None = None) -> dg.Definitions:
    all_assets = dg.load_assets_from_modules([asset_module])
    job = dg.define_asset_job(MAIN_JOB, selection=dg.AssetSelection.all(),
                              description="Read raw/, extract, validate and publish the council-decisions package.")
    return dg.Definitions(assets=all_assets, asset_checks=all_checks, jobs=[job],
                          resources={"settings": settings or PipelineSettings()})


defs = build_definitions()
