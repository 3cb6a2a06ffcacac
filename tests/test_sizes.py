"""One size convention (decimal units, as the Hub shows them) for the card, the CLI and prefetch."""

import re
import subprocess
import sys

import pytest

from sarlang1m import schema
from sarlang1m.publish.hub import push_release
from sarlang1m.publish.manifest import read_manifest
from sarlang1m.sizes import human_bytes


@pytest.mark.parametrize(
    ("size", "shown"),
    [(0, "0 B"), (999, "999 B"), (1000, "1.0 KB"), (110_100_000, "110.1 MB"), (5 * 10**12, "5.0 TB")],
)
def test_sizes_are_shown_in_decimal_units(size, shown):
    assert human_bytes(size) == shown


def test_the_card_prefetch_and_push_show_the_same_size_for_the_same_bytes(synthetic_release):
    """The card's originals, prefetch's total and push's upload, for the same bytes, read the same."""
    files = read_manifest(synthetic_release)["files"]
    originals = sum(entry["bytes"] for name, entry in files.items() if name.startswith(f"{schema.ORIGINALS_DIR}/"))
    card = (synthetic_release / schema.CARD_FILE).read_text(encoding="utf-8")
    assert re.search(rf"^\| all \|  \| [\d,]+ \| {re.escape(human_bytes(originals))} \|$", card, re.MULTILINE)
    done = subprocess.run(
        [sys.executable, "-m", "sarlang1m.cli", "prefetch", "vqa", "--release", str(synthetic_release)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"originals ({human_bytes(originals)})" in done.stdout
    plan = push_release(synthetic_release, schema.DEFAULT_REPO_ID, schema.RELEASE_VERSION, dry_run=True).plan
    assert f"; {human_bytes(plan.bytes_to_upload)} in " in plan.summary() and "MiB" not in plan.summary()
