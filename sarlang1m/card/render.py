"""The dataset card (README.md of a release): its YAML header (`metadata`) and its body, rendered here.

The body is rendered from the Jinja template in `assets/` through huggingface_hub's card API, with the
figures of `statistics`, the tables of `tables`, the viewer checks of `viewer` and the entries of
`changelog`. Nothing in it depends on the clock: two builds of the same input give the same bytes.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

from huggingface_hub import DatasetCard
from packaging.version import Version

from .. import schema
from ..raw import classify
from ..summary import ConfigSummary
from . import viewer
from .changelog import CHANGELOG, changelog_until, read_changelog
from .metadata import card_data
from .statistics import collect_statistics
from .tables import card_tables
from .tables.images import radiometry_table

TEMPLATE = Path(__file__).parent / "assets" / "template.md"
#: Questions or captions shown in each example row (the rest are counted).
EXAMPLE_TEXTS = 4


def _example_json(row: dict | None, task: str) -> str:
    """One real row as JSON, with the binary cells described instead of dumped and long lists cut."""
    if row is None:
        return ""
    ordered: dict = {}
    for name in schema.FEATURES[task]:
        if name == "image":
            ordered[name] = f"<8-bit image, {row.get('width')}x{row.get('height')} px, from {row.get('file_name')}>"
        elif name == schema.TEXT_COLUMN[task]:
            texts = row.get(name) or []
            ordered[name] = texts[:EXAMPLE_TEXTS]
            if len(texts) > EXAMPLE_TEXTS:
                ordered[name].append(f"... {len(texts) - EXAMPLE_TEXTS} more")
        else:
            ordered[name] = row.get(name)
    return json.dumps(ordered, indent=2, ensure_ascii=False)


def _labelling_rules() -> dict[str, str]:
    """The documented rules of `sarlang1m.raw.classify`, quoted from the code so the card cannot drift."""
    return {
        "application": inspect.getdoc(classify.classify_question) or "",
        "answer_type": inspect.getdoc(classify.answer_type) or "",
        "caption_style": inspect.getdoc(classify.caption_style) or "",
    }


def _build_report(release: Path) -> dict | None:
    path = release / schema.REPORT_FILE
    if not path.is_file():
        return None
    report = json.loads(path.read_text(encoding="utf-8"))
    return {
        "texts_read": report.get("texts_read", 0),
        "texts_used": report.get("texts_used", 0),
        "texts_skipped": report.get("texts_skipped", 0),
        "skip_reasons": report.get("skip_reasons", {}),
        "warnings": report.get("warnings", []),
        "sar_radiometry": report.get("sar_radiometry", {}),
    }


def _default_config(configs: dict[str, ConfigSummary]) -> str:
    """The one default config; refuses an empty summary or one with no or several defaults."""
    if not configs:
        raise ValueError("configs is empty: a release needs at least one config with data files")
    defaults = [name for name, config in configs.items() if config.default]
    if len(defaults) != 1:
        raise ValueError(f"exactly one config must be the default, got {defaults or 'none'}")
    return defaults[0]


def _viewer_limits() -> dict[str, Any]:
    """The dataset viewer's limits the card quotes, and the viewer commit they were read from."""
    return {
        "page_rows": viewer.PAGE_ROWS,
        "response_limit": f"{viewer.RESPONSE_MAX_BYTES:,} bytes",
        "scan_limit": f"{viewer.SCAN_MAX_BYTES:,} bytes",
        "group_rows": viewer.IMAGE_ROW_GROUP_ROWS,
        "repository": viewer.VIEWER_REPOSITORY,
        "commit": viewer.VIEWER_COMMIT,
    }


def _reference_facts() -> dict[str, Any]:
    """What the card quotes from `schema` and the labelling code: prompts, classes, citation, file names."""
    return {
        "rules": _labelling_rules(),
        "prompts": {"caption": schema.CAPTION_PROMPT, "vqa": schema.VQA_PROMPT, **schema.CLASS_PROMPTS},
        "sarvqa1_classes": ", ".join(schema.SARVQA1_CLASSES),
        "land_cover": ", ".join(schema.LAND_COVER_CLASSES),
        "non_commercial": [s.title for s in schema.SOURCES.values() if s.name != "unknown" and not s.commercial_use],
        "viewer": _viewer_limits(),
        "citation": schema.citation(),
        "paper_url": schema.PAPER_URL,
        "authors_repo": schema.AUTHORS_REPO_URL,
        "croissant_file": schema.CROISSANT_FILE,
        "manifest_file": schema.MANIFEST_FILE,
        "report_file": schema.REPORT_FILE,
    }


def render_card(
    release: str | Path,
    *,
    configs: dict[str, ConfigSummary],
    version: str,
    synthetic: bool,
    sar_statistics: dict,
    repo_id: str = schema.DEFAULT_REPO_ID,
    sample_grid: str | None = schema.SAMPLE_GRID_FILE,
    changelog: str | Path = CHANGELOG,
) -> DatasetCard:
    """The card of the release folder `release`, from its written Parquet files and the build's summaries.

    `configs` is the per-config summary of the build; `sar_statistics` the per-source dB mean/std of the
    MANIFEST; `sample_grid` the file name of the grid image beside the card (None: no grid shown).
    """
    release = Path(release)
    default_config = _default_config(configs)
    stats = collect_statistics(release)
    entries = read_changelog(changelog)
    checks = viewer.viewer_checks(release, configs, repo_id=repo_id)
    build_report = _build_report(release)
    tables = card_tables(release, configs, stats, sar_statistics, checks)
    if build_report and build_report["sar_radiometry"]:
        tables["radiometry"] = radiometry_table(build_report["sar_radiometry"])
    return DatasetCard.from_template(
        card_data(configs, version=version, synthetic=synthetic),
        template_path=str(TEMPLATE),
        version=version,
        revision=f"v{version}",
        synthetic=synthetic,
        repo_id=repo_id,
        default_config=default_config,
        tables=tables,
        examples={task: _example_json(stats.example(task), task) for task in schema.TASKS},
        total_images=stats.distinct_images,
        total_texts=sum(sum(c.values()) for c in stats.texts.values()),
        unknown_images=stats.sources["vqa"]["unknown"]["images"] + stats.sources["captions"]["unknown"]["images"],
        viewer_problems=[(c.config, c.split, c.problems()) for c in checks if not c.fits],
        build_report=build_report,
        changelog=changelog_until(version, entries),
        changelog_has_version=any(Version(e.version) == Version(version) for e in entries),
        sample_grid=sample_grid if stats.distinct_images else None,
        **_reference_facts(),
    )


def write_card(release: str | Path, **options: Any) -> Path:
    """Render the card of `release` (keyword arguments of `render_card`) and write it as README.md."""
    path = Path(release) / schema.CARD_FILE
    path.write_text(str(render_card(release, **options)).rstrip("\n") + "\n", encoding="utf-8")
    return path
