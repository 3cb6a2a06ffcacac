"""Reference tables: the sources' licences, the tier bounds and the columns of each task, which come from
`schema` alone (the same in every release), and the viewer check, which sets the release's Parquet
layout against the Dataset Viewer's limits (`viewer`).
"""

from __future__ import annotations

import datasets

from ... import schema
from ...sizes import human_bytes
from .. import viewer
from ..metadata import published_sources
from .markdown import markdown_table


def licences_table() -> str:
    return markdown_table(
        ["source", "sensor", "GSD (m)", "tier", "polarisations", "licence", "commercial use"],
        [
            (
                f"[{spec.title}]({spec.homepage})",
                spec.sensor,
                f"{spec.gsd_m[0]:g}-{spec.gsd_m[1]:g}" if spec.gsd_m[0] != spec.gsd_m[1] else f"{spec.gsd_m[0]:g}",
                spec.tier,
                ", ".join(spec.polarizations) or "single / unknown",
                f"[{spec.license}]({spec.license_url})",
                spec.commercial_use,
            )
            for spec in (schema.SOURCES[s] for s in published_sources())
        ],
        "lllllll",
    )


def tier_definitions_table() -> str:
    return markdown_table(
        ["tier", "GSD range (m)", "meaning"],
        [(f"`{t.name}`", f"{t.gsd_m[0]:g}-{t.gsd_m[1]:g}", t.description) for t in schema.TIERS.values()],
        "lll",
    )


def _feature_type(feature: object) -> str:
    if isinstance(feature, datasets.Value):
        return str(feature.dtype)
    if isinstance(feature, datasets.Image):
        return "image"
    if isinstance(feature, datasets.List):
        inner = feature.feature
        return f"list<{_feature_type(inner) if not isinstance(inner, dict) else 'struct'}>"
    if isinstance(feature, dict):
        return "struct"
    return type(feature).__name__


def columns_table(task: str) -> str:
    return markdown_table(
        ["column", "type", "meaning"],
        [
            (f"`{name}`", _feature_type(feature), schema.COLUMN_DESCRIPTIONS[name])
            for name, feature in schema.FEATURES[task].items()
        ],
        "lll",
    )


def viewer_table(checks: list[viewer.ViewerCheck]) -> str:
    return markdown_table(
        [
            "config",
            "split",
            "rows",
            "rows per row group (max)",
            "page index",
            "largest row-group read",
            f"{viewer.PAGE_ROWS}-row page response",
            "fits the viewer",
        ],
        [
            (
                f"`{c.config}`",
                c.split,
                c.rows,
                c.max_group_rows,
                c.page_index,
                human_bytes(c.largest_read),
                human_bytes(c.page_bytes),
                c.fits,
            )
            for c in checks
        ],
        "llrrlrrl",
    )
