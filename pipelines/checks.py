"""Dagster asset checks, generated from the resource schemas by one factory.

Each core table gets a blocking check "<resource>_matches_schema": if its rows break the schema
(types, required fields, enums, keys, foreign keys) the package is not published, and the
check's metadata names the resource, row and field. The checks are evaluated where the tables
are built (foreign keys need all tables at once); the verdicts come from validate.py, so nothing
here knows a rule.
"""
import dagster as dg
import pandas as pd

from . import validate
from .metadata import resources
from .publish import latest_release
from .resources import PipelineSettings

TABLE_ASSETS = {name: f"core_{name}" for name in resources()}


def check_name(resource: str) -> str:
    return f"{resource}_matches_schema"


def schema_check_specs() -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(check_name(name), asset=key, blocking=True,
                              description=f"Rows of '{name}' satisfy schemas/{name}.schema.yaml "
                                          f"(types, required, enums, keys, foreign keys).")
            for name, key in TABLE_ASSETS.items()]


def schema_check_results(tables: dict[str, pd.DataFrame]):
    """One AssetCheckResult per resource, in the order of schema_check_specs()."""
    verdicts = validate.validate_tables(tables)
    for name, key in TABLE_ASSETS.items():
        errors = verdicts[name]
        yield dg.AssetCheckResult(
            asset_key=key, check_name=check_name(name), passed=not errors,
            metadata={"rows": len(tables[name]), "errors": len(errors),
                      "first_errors": "\n".join(str(e) for e in errors[:20]) or "none"})


def graph_check_spec() -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec("graph_conforms_to_shapes", asset="core_council_decisions_graph", blocking=True,
                             description="The graph conforms to the SHACL shapes in schemas/shapes.ttl: each document's "
                                         "triples when it was extracted (verdicts cached with it), "
                                         "and what no document owns on every run.")


def graph_check_result(errors: list[str], checked_documents: int, all_documents: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(asset_key="core_council_decisions_graph", check_name="graph_conforms_to_shapes",
                               passed=not errors, metadata={
                                   "violations": len(errors), "first_violations": "\n".join(errors[:20]) or "none",
                                   "documents_checked": checked_documents, "documents_in_graph": all_documents})


@dg.asset_check(asset="out_council_decisions_package", name="package_passes_frictionless",
                description="The latest release as published: Frictionless accepts its datapackage.json (checking "
                            "the first rows; every row was validated before publishing) and every file's bytes "
                            "match the hash and size the descriptor states.")
def package_passes_frictionless(settings: PipelineSettings) -> dg.AssetCheckResult:
    release = latest_release(settings.published_path)
    if release is None:
        return dg.AssetCheckResult(passed=False, metadata={"errors": "no release has been published"})
    errors = validate.frictionless_package_errors(str(release / "datapackage.json"), limit_rows=1000)
    return dg.AssetCheckResult(passed=not errors, metadata={"release": str(release), "errors": "\n".join(errors) or "none"})


all_checks = [package_passes_frictionless]
