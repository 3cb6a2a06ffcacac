"""How a size in bytes is shown to people: one convention everywhere (card, CLI, prefetch, push plans).

Decimal units (1 MB = 1,000,000 bytes), as the Hub shows sizes and as `--max-shard-size 500MB` reads
them, so that the card, `push --dry-run` and `prefetch` give the same figure for the same bytes.
"""

from __future__ import annotations


def human_bytes(n: float) -> str:
    """A size in units of 1000 bytes (B, KB, MB, GB, TB): ``1,234 B``, ``110.1 MB``."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} TB"  # pragma: no cover (the loop returns at TB)
