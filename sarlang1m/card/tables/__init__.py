"""The Markdown tables of the card's body, one small function per table, grouped by what they describe:
`contents` (configs, sources, tiers, subsets), `texts`, `images` (sizes, dB statistics, radiometry,
originals) and `reference` (licences, tier bounds, columns, viewer check); `markdown` formats them all.

`card_tables` gathers them under the names the template (`assets/template.md`) uses.
"""

from __future__ import annotations

from pathlib import Path

from ... import schema
from ...summary import ConfigSummary
from .. import viewer
from ..statistics import ReleaseStatistics
from .contents import configs_table, sources_table, subsets_table, tiers_table
from .images import originals_table, sar_table, sizes_table
from .reference import columns_table, licences_table, tier_definitions_table, viewer_table
from .texts import (
    answer_types_table,
    applications_table,
    caption_styles_table,
    length_buckets_table,
    lengths_table,
    subtypes_table,
)


def card_tables(
    release: Path,
    configs: dict[str, ConfigSummary],
    stats: ReleaseStatistics,
    sar_statistics: dict,
    checks: list[viewer.ViewerCheck],
) -> dict[str, str]:
    """Every table of the card's body, by the name the template gives it."""
    tables = {
        "configs": configs_table(configs),
        "sources": sources_table(stats),
        "tiers": tiers_table(stats),
        "subsets": subsets_table(stats),
        "applications": applications_table(stats),
        "subtypes": subtypes_table(stats),
        "answer_types": answer_types_table(stats),
        "caption_styles": caption_styles_table(stats),
        "lengths": lengths_table(stats),
        "length_buckets": length_buckets_table(stats),
        "sizes": sizes_table(stats),
        "sar": sar_table(sar_statistics),
        "licences": licences_table(),
        "tier_definitions": tier_definitions_table(),
        "viewer": viewer_table(checks),
    }
    for task in schema.TASKS:
        tables[f"columns_{task}"] = columns_table(task)
    tables["originals"] = originals_table(release)
    return tables
