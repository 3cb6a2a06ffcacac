"""Atomic file writes: a partial file beside the target, renamed over it only when it is complete.

A reader (a user, `datasets`, a concurrent build worker) sees the old file or the whole new one, never a
half-written one, and a failed write leaves nothing behind. An error writing the partial file names the
target, the path the user knows (`messages.naming`), and `check_output_file` refuses a target that cannot be
written before any work is done.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError
from .messages import naming
from .output_folders import check_can_create


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A partial file beside `path` to write, renamed over it when the block succeeds and removed when it fails.

    The partial name carries the process id, so two processes writing the same target do not share one. An
    OSError on the partial file is raised as one on `path`: the user gave that name, not the hidden one.
    """
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        with naming(path, partial):
            yield partial
            os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def check_output_file(path: Path) -> None:
    """Refuse a file path that cannot be written (a folder, a path under a file or in a folder this process
    may not write in) before any work is done."""
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give the path of the file to write, e.g. {path / 'out.json'}")
    check_can_create(path)
