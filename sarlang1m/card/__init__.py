"""3. What describes a release: the dataset card, its Croissant metadata, the viewer limits, the previews.

Every figure is read back from the written Parquet files (never from the build's own counters), so the
card describes the files as they are.
"""

from .render import render_card, write_card

__all__ = ["render_card", "write_card"]
