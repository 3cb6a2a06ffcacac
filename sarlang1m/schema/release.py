"""The release as a whole: its name and version, its tasks, splits and subsets, the files at its root,
and what it says about itself (tags, licence, links, citation)."""

from __future__ import annotations

from pathlib import Path

DATASET_NAME = "sarlang-1m"
PRETTY_NAME = "SARLANG-1M"
#: Hub repository of the published release, and the revision `sarlang1m.load` pins by default.
DEFAULT_REPO_ID = "sarlang1m/SARLANG-1M"
RELEASE_VERSION = "1.0.0"
RELEASE_REVISION = f"v{RELEASE_VERSION}"

TASKS = ("captions", "vqa")
SPLITS = ("train", "test")
SUBSETS = ("sarvqa1", "sarvqa2")

#: Files at the root of a release folder.
CARD_FILE = "README.md"
MANIFEST_FILE = "MANIFEST.json"
REPORT_FILE = "build_report.json"
CROISSANT_FILE = "croissant.json"
SAMPLE_GRID_FILE = "sample_grid.png"
DATA_DIR = "data"
#: Folder of the original GeoTIFFs: ``originals/<source>/<file name>``, each stored once, listed by no config
#: (so `datasets` never downloads them for image-only use), read by path (see `sarlang1m.originals`).
ORIGINALS_DIR = "originals"
#: Entries per folder the Hub recommends staying under; a source expected to exceed it is bucketed.
MAX_FOLDER_ENTRIES = 10_000

# --------------------------------------------------------------------------------------------
# What a release says about itself: the card's YAML, the Croissant metadata and the builder's
# `DatasetInfo` all read these, so the three cannot drift apart.

TAGS = ("sar", "remote-sensing", "earth-observation", "geospatial", "synthetic-aperture-radar")
TASK_CATEGORIES = ("visual-question-answering", "image-to-text")
LICENSE_NAME = "sarlang-1m-mixed-source-licences"
LICENSE_LINK = "https://github.com/Jimmyxichen/SARLANG-1M"
PAPER_URL = "https://arxiv.org/abs/2504.03254"
AUTHORS_REPO_URL = "https://github.com/Jimmyxichen/SARLANG-1M"
#: The authors' BibTeX entry; a packaged file so that it can be copied as it is.
CITATION_FILE = Path(__file__).parent.parent / "card" / "assets" / "citation.bib"


def citation() -> str:
    """The authors' BibTeX entry for SARLANG-1M (`CITATION_FILE`)."""
    return CITATION_FILE.read_text(encoding="utf-8").strip()
