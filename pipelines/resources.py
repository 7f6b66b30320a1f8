"""Dagster resources: the pipeline's settings. Only configuration lives here, no logic.

Every setting can also come from an environment variable, so `dagster dev`, schedules and
`opendecisions run` share one way of being configured.
"""

import os
from pathlib import Path

import dagster as dg

from .ingest import DEFAULT_MAX_BYTES
from .tables import DEFAULT_BASE_URI

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class PipelineSettings(dg.ConfigurableResource):
    """Where documents come from and go to, and what may be published."""

    raw_dir: str = os.environ.get("OPENDECISIONS_RAW_DIR", str(PROJECT_ROOT / "raw"))
    published_dir: str = os.environ.get("OPENDECISIONS_PUBLISHED_DIR", str(PROJECT_ROOT / "published"))
    base_uri: str = os.environ.get("OPENDECISIONS_BASE_URI", DEFAULT_BASE_URI)
    include_contact_details: bool = os.environ.get("OPENDECISIONS_INCLUDE_CONTACT_DETAILS", "") in ("1", "true", "yes")
    max_bytes: int = int(os.environ.get("OPENDECISIONS_MAX_BYTES", DEFAULT_MAX_BYTES))
    labels_dir: str = os.environ.get("OPENDECISIONS_LABELS_DIR", str(PROJECT_ROOT / "labels"))
    download_base: str = os.environ.get("OPENDECISIONS_DOWNLOAD_BASE", "https://opendecisions.uk/published/")
    cache_dir: str = os.environ.get("OPENDECISIONS_CACHE_DIR", "")  # default: <published_dir>/.cache

    @property
    def raw_path(self) -> Path:
        return Path(self.raw_dir)

    @property
    def published_path(self) -> Path:
        return Path(self.published_dir)

    @property
    def cache_path(self) -> Path:
        return Path(self.cache_dir) if self.cache_dir else self.published_path / ".cache"
