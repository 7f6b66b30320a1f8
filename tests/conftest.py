"""Shared fixtures: the labelled seeds and dev corpus in ../shared, temporary raw folders."""
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"
DEV = SHARED / "corpus" / "dev"
SCORER = SHARED / "tools" / "score_extraction.py"


def copy_documents(src: Path, dest: Path, with_sidecars: bool = True) -> Path:
    """Copy the .txt documents (and .meta.json sidecars) of a labelled folder; labels stay behind."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(src.glob("*.txt")):
        shutil.copy(path, dest / path.name)
        sidecar = path.with_name(path.stem + ".meta.json")
        if with_sidecars and sidecar.exists():
            shutil.copy(sidecar, dest / sidecar.name)
    return dest


@pytest.fixture
def raw_copy(tmp_path):
    """A temporary copy of the repository's sample raw/ folder."""
    return Path(shutil.copytree(REPO / "raw", tmp_path / "raw"))
