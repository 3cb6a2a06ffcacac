"""The single definition of a SARLANG-1M release.

Sources, resolution tiers, applications, answer types, columns, configs, partitions and file names
are defined here and nowhere else, so that the reader, the builder, the card, the loaders and the
evaluator cannot disagree. Figures marked "paper" come from the SARLANG-1M paper (arXiv 2504.03254)
and are used to generate a synthetic release of the same shape and to compare a build against.

Every name is importable from here (``from sarlang1m import schema; schema.SOURCES``); the modules
split the definition by job, in the order a reader meets them:

- `release`: the release as a whole: name, version, tasks and splits, root files, tags, licence, citation;
- `source_datasets`: the source datasets, their resolution tiers and the radiometry of their pixels;
- `applications`: the paper's applications, answer types, caption styles and closed vocabularies;
- `paper`: the sizes the paper reports and the prompts it uses;
- `text_fields`: the fields of a caption and of a question, stored column-wise, and text ids;
- `columns`: each column once, with its feature, description and tasks; `FEATURES` derived from them;
- `partitions`: where rows and originals live in a release, and the configs that select partitions.
"""

from __future__ import annotations

from .applications import (
    ANSWER_TYPES,
    APPLICATIONS,
    CAPTION_STYLES,
    LAND_COVER_CLASSES,
    OTHERS_SUBTYPES,
    SARVQA1_CLASSES,
    SARVQA1_POSITIONS,
    VQA_APPLICATIONS,
    Application,
)
from .columns import COLUMN_DESCRIPTIONS, COLUMNS, FEATURES, TEXT_COLUMN, Column
from .paper import CAPTION_PROMPT, CLASS_PROMPTS, IMAGE_TOKEN, PAPER, VQA_PROMPT, PaperCounts
from .partitions import ConfigSpec, config_spec, config_specs, original_path, partition_dir, shard_name
from .release import (
    AUTHORS_REPO_URL,
    CARD_FILE,
    CITATION_FILE,
    CROISSANT_FILE,
    DATA_DIR,
    DATASET_NAME,
    DEFAULT_REPO_ID,
    LICENSE_LINK,
    LICENSE_NAME,
    MANIFEST_FILE,
    MAX_FOLDER_ENTRIES,
    ORIGINALS_DIR,
    PAPER_URL,
    PRETTY_NAME,
    RELEASE_REVISION,
    RELEASE_VERSION,
    REPORT_FILE,
    SAMPLE_GRID_FILE,
    SPLITS,
    SUBSETS,
    TAGS,
    TASK_CATEGORIES,
    TASKS,
    citation,
)
from .source_datasets import NAMED_SOURCES, RADIOMETRIES, SOURCES, TIERS, Radiometry, Source, Tier
from .text_fields import CAPTION_FIELDS, QA_FIELDS, local_text_id, text_columns, text_count, text_id, text_records

__all__ = [
    "ANSWER_TYPES",
    "APPLICATIONS",
    "AUTHORS_REPO_URL",
    "CAPTION_FIELDS",
    "CAPTION_PROMPT",
    "CAPTION_STYLES",
    "CARD_FILE",
    "CITATION_FILE",
    "CLASS_PROMPTS",
    "COLUMNS",
    "COLUMN_DESCRIPTIONS",
    "CROISSANT_FILE",
    "DATASET_NAME",
    "DATA_DIR",
    "DEFAULT_REPO_ID",
    "FEATURES",
    "IMAGE_TOKEN",
    "LAND_COVER_CLASSES",
    "LICENSE_LINK",
    "LICENSE_NAME",
    "MANIFEST_FILE",
    "MAX_FOLDER_ENTRIES",
    "NAMED_SOURCES",
    "ORIGINALS_DIR",
    "OTHERS_SUBTYPES",
    "PAPER",
    "PAPER_URL",
    "PRETTY_NAME",
    "QA_FIELDS",
    "RADIOMETRIES",
    "RELEASE_REVISION",
    "RELEASE_VERSION",
    "REPORT_FILE",
    "SAMPLE_GRID_FILE",
    "SARVQA1_CLASSES",
    "SARVQA1_POSITIONS",
    "SOURCES",
    "SPLITS",
    "SUBSETS",
    "TAGS",
    "TASKS",
    "TASK_CATEGORIES",
    "TEXT_COLUMN",
    "TIERS",
    "VQA_APPLICATIONS",
    "VQA_PROMPT",
    "Application",
    "Column",
    "ConfigSpec",
    "PaperCounts",
    "Radiometry",
    "Source",
    "Tier",
    "citation",
    "config_spec",
    "config_specs",
    "local_text_id",
    "original_path",
    "partition_dir",
    "shard_name",
    "text_columns",
    "text_count",
    "text_id",
    "text_records",
]
