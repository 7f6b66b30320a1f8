"""Dagster schedule and sensor: when the main job runs by itself. Thin: no pipeline logic.

The schedule runs the job daily (cron in OPENDECISIONS_SCHEDULE_CRON, default 06:00 UTC); the
sensor notices new, changed or removed files in the raw folder and starts a run. Both go through
the same job as `opendecisions run`, so unchanged documents come from the extraction cache.
"""
import os

import dagster as dg

from .incremental import folder_signature
from .resources import PipelineSettings

MAIN_JOB = "council_decisions_job"
BATCH_JOB = "document_batches_job"
DEFAULT_CRON = "0 6 * * *"


def build_schedule(job) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(name="daily_council_decisions", job=job,
                                 cron_schedule=os.environ.get("OPENDECISIONS_SCHEDULE_CRON", DEFAULT_CRON),
                                 execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.RUNNING,
                                 description="Publish a release daily if anything changed.")


def build_sensor(job) -> dg.SensorDefinition:
    @dg.sensor(name="raw_folder_changed", job=job, minimum_interval_seconds=60,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description="Starts a run when files are added to, changed in or removed from the raw folder.")
    def raw_folder_changed(context: dg.SensorEvaluationContext, settings: PipelineSettings):
        if not settings.raw_path.is_dir():
            return dg.SkipReason(f"raw folder not found: {settings.raw_path}")
        signature = folder_signature(settings.raw_path)
        if signature == context.cursor:
            return dg.SkipReason("no new, changed or removed files in the raw folder")
        context.update_cursor(signature)
        return dg.RunRequest(run_key=signature[:24], tags={"opendecisions/trigger": "raw_folder_changed"})

    return raw_folder_changed
