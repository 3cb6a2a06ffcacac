"""Regenerate `tests/data/tiny_release/`: the release folder built from the tiny raw release (SYNTHETIC).

Run from the repository root after any change to the release format, then review the diff in git:

    python tests/data/make_tiny_release.py

The content is deterministic (same rows, card, MANIFEST and originals every run);
`tests/test_tiny_release_data.py` rebuilds it and fails, pointing here, when the checked-in copy is stale.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TINY_RELEASE = HERE / "tiny_release"
REGENERATE = "python tests/data/make_tiny_release.py"

# `tiny_raw` lives in tests/ (on pytest's pythonpath); make it importable when run as a script too.
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from tiny_raw import make_tiny_raw  # noqa: E402

from sarlang1m.build.release import build_release  # noqa: E402


def make_tiny_release(out: Path, raw: Path | None = None) -> Path:
    """Build the release of `tests/tiny_raw.make_tiny_raw` (synthetic) at `out`, replacing it atomically.

    The raw release is written to `raw` and kept there when given (tests compare against it), else to a
    temporary folder.
    """
    if raw is not None:
        build_release(make_tiny_raw(raw), out, overwrite=True, progress=False)
        return out
    with tempfile.TemporaryDirectory(prefix="sarlang1m-tiny-raw-") as scratch:
        build_release(make_tiny_raw(Path(scratch) / "raw"), out, overwrite=True, progress=False)
    return out


if __name__ == "__main__":
    print(make_tiny_release(TINY_RELEASE))
