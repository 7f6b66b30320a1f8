"""Topic tags for a decision, from the patterns in schemas/concepts.yaml (the same file the SKOS
topic scheme is published from)."""
from __future__ import annotations

import re
from functools import lru_cache

from ..metadata import concept_schemes


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern]]:
    topic = concept_schemes()["topic"]
    return [(key, re.compile("|".join(f"(?:{p})" for p in pats), re.I)) for key, pats in topic["patterns"].items()]


def topics_for(*texts: str | None) -> str:
    """';'-joined topic keys in scheme order; 'other' when nothing matches."""
    text = "\n".join(t for t in texts if t)
    found = [key for key, pattern in _patterns() if pattern.search(text)]
    return ";".join(found) if found else "other"
