"""The single description of the package, its resources and their fields.

Everything that needs to know a resource's columns, types, keys or descriptions (table building,
validation, asset checks, publishing, docs) reads them from here, and this module reads them
from the data files in `schemas/`. Nothing here transforms data.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


@dataclass(frozen=True)
class Resource:
    name: str
    title: str
    description: str
    schema: dict

    @property
    def fields(self) -> list[dict]:
        return self.schema["fields"]

    @property
    def columns(self) -> list[str]:
        return [f["name"] for f in self.fields]

    @property
    def primary_key(self) -> list[str]:
        return list(self.schema.get("primaryKey", []))

    @property
    def foreign_keys(self) -> list[dict]:
        return list(self.schema.get("foreignKeys", []))

    def field(self, name: str) -> dict:
        return next(f for f in self.fields if f["name"] == name)

    @property
    def table_schema(self) -> dict:
        """The Frictionless Table Schema alone, without our linked-data mapping."""
        schema = {k: v for k, v in self.schema.items() if k != "rdf"}
        schema["fields"] = [{k: v for k, v in f.items() if k != "rdf"} for f in self.fields]
        return schema

    @property
    def rdf(self) -> dict | None:
        return self.schema.get("rdf")


@lru_cache(maxsize=1)
def package_metadata() -> dict:
    return yaml.safe_load((SCHEMA_DIR / "package.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def resources() -> dict[str, Resource]:
    """Resources in publishing order, keyed by name."""
    out = {}
    for entry in package_metadata()["resources"]:
        schema = yaml.safe_load((SCHEMA_DIR / f"{entry['name']}.schema.yaml").read_text(encoding="utf-8"))
        out[entry["name"]] = Resource(entry["name"], entry["title"], entry["description"], schema)
    return out


@lru_cache(maxsize=1)
def concept_schemes() -> dict:
    """SKOS concept schemes (document types, amount categories, topics) and the topic patterns."""
    return yaml.safe_load((SCHEMA_DIR / "concepts.yaml").read_text(encoding="utf-8"))


def rdf_prefixes() -> dict[str, str]:
    return dict(package_metadata()["rdf"]["prefixes"])


RESOURCE_NAMES = tuple(entry["name"] for entry in package_metadata()["resources"])
