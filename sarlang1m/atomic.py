"""Atomic file writes: a partial file beside the target, renamed over it only when it is complete.

A reader (a user, `datasets`, a concurrent build worker) sees the old file or the whole new one, never a
half-written one, and a failed write leaves nothing behind. An error writing the partial file names the
target, the path the user knows (`messages.naming`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from .messages import naming


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A partial file beside `path` to write, renamed over it when the block succeeds and removed when it fails.

    The partial name carries the process id, so two processes writing the same target do not share one.
    """
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        with naming(path, partial):
            yield partial
            os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
