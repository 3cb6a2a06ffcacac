"""Where a build writes, and how its result replaces the release folder at once.

The build writes into a hidden sibling folder and renames it at the end: an interrupted build never
leaves a folder that looks like a release, and an old release is replaced only by a complete one.
Work folders of builds that were killed are found by their process id and removed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def swap_into_place(release: Path, out: Path) -> None:
    """Rename the finished release onto `out`; an old release is moved aside first, then deleted."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    release.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def remove_stale_builds(out: Path) -> None:
    """Delete work folders of earlier builds of `out` that were killed (their process is gone)."""
    for stale in out.parent.glob(f".{out.name}.building-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
