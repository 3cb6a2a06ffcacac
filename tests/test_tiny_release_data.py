"""The checked-in tiny release (tests/data/tiny_release, synthetic) is what the builder makes today.

User-side tests read that folder instead of building a release, so it must not go stale: this test rebuilds it
with `tests/data/make_tiny_release.py` and compares content, not bytes, so a change of the release format
fails here until the folder is regenerated and the diff reviewed in git.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import pyarrow.parquet as pq
import pytest
from data.make_tiny_release import REGENERATE, TINY_RELEASE, make_tiny_release

STALE = f"tests/data/tiny_release is stale: run `{REGENERATE}` and review the diff in git"


def files_of(release: Path) -> list[str]:
    return sorted(p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file())


def manifest_content(path: Path) -> dict[str, Any]:
    """MANIFEST.json less what legitimately varies with the installed libraries, not with the release."""
    manifest = json.loads(path.read_text())
    # The versions of sarlang1m, datasets, huggingface_hub and pyarrow that built it: a record, not content.
    manifest.pop("generator")
    # Hashes and sizes of the files: Parquet bytes carry the pyarrow version ("created_by") and its encoder's
    # choices, and the card's hash follows them. Every listed file is compared by content in this test, so
    # only the list of names is kept.
    manifest["files"] = sorted(manifest["files"])
    # On-disk Parquet bytes per split: vary with pyarrow for the reason above (rows and num_bytes stay).
    for config in manifest["configs"].values():
        for split in config["splits"].values():
            split.pop("download_bytes")
    return manifest


#: A size as the card's tables print it (markdown.human_bytes).
_SIZE = r"\d+(?:\.\d)? (?:B|KB|MB|GB|TB)"


def card_text(path: Path) -> str:
    # `download_size` in the card's YAML is the on-disk Parquet size, which varies with pyarrow and datasets
    # (see above); so do the sizes in the rows of a config (download size, row-group reads) in its tables.
    text = re.sub(r"(?m)^(\s*download_size:) \d+$", r"\1 <parquet bytes>", path.read_text())
    return re.sub(r"(?m)^\| `.*$", lambda row: re.sub(_SIZE, "<parquet bytes>", row[0]), text)


def parquet_rows(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """Schema with its `datasets` features, and every row (image bytes included: the release copies them)."""
    table = pq.read_table(path)
    return table.schema.to_string(show_schema_metadata=True), table.to_pylist()


def png_pixels(path: Path) -> tuple[str, list]:
    # Rendered by Pillow: its zlib settings may change the bytes, never the pixels.
    with PIL.Image.open(path) as image:
        return image.mode, np.asarray(image).tolist()


def compare(name: str, expected: Path, actual: Path) -> None:
    if name == "MANIFEST.json":
        assert manifest_content(actual) == manifest_content(expected), f"{name}: {STALE}"
    elif name.endswith(".json"):  # build report and Croissant: no library versions or Parquet hashes in them
        assert json.loads(actual.read_text()) == json.loads(expected.read_text()), f"{name}: {STALE}"
    elif name == "README.md":
        assert card_text(actual) == card_text(expected), f"{name}: {STALE}"
    elif name.endswith(".parquet"):
        assert parquet_rows(actual) == parquet_rows(expected), f"{name}: {STALE}"
    elif name.endswith(".png"):
        assert png_pixels(actual) == png_pixels(expected), f"{name}: {STALE}"
    else:  # originals: copied verbatim from the raw release
        assert actual.read_bytes() == expected.read_bytes(), f"{name}: {STALE}"


def test_checked_in_tiny_release_is_what_the_builder_makes(tmp_path: Path) -> None:
    rebuilt = make_tiny_release(tmp_path / "tiny_release")
    assert files_of(rebuilt) == files_of(TINY_RELEASE), f"file list differs: {STALE}"
    for name in files_of(rebuilt):
        compare(name, TINY_RELEASE / name, rebuilt / name)


def test_checked_in_tiny_release_is_small_and_marked_synthetic() -> None:
    assert sum(p.stat().st_size for p in TINY_RELEASE.rglob("*") if p.is_file()) < 2_000_000
    assert json.loads((TINY_RELEASE / "MANIFEST.json").read_text())["synthetic"] is True
    assert "SYNTHETIC" in (TINY_RELEASE.parent / "README.md").read_text()


@pytest.mark.parametrize(
    "name",
    [
        "MANIFEST.json",
        "README.md",
        "croissant.json",
        "data/vqa/sarvqa2/vhr/train-00000-of-00001.parquet",
        "originals/spacenet6/SN6_Rotterdam_1.tif",
    ],
)
def test_a_changed_file_is_reported_with_how_to_regenerate(tmp_path: Path, name: str) -> None:
    """A format change must fail the comparison, with the command that regenerates the folder."""
    changed = tmp_path / name.replace("/", "_")
    original = TINY_RELEASE / name
    if name.endswith(".parquet"):
        table = pq.read_table(original)
        pq.write_table(table.slice(1), changed)
    elif name.endswith(".json"):
        content = json.loads(original.read_text())
        content["version"] = "9.9.9"
        changed.write_text(json.dumps(content))
    else:
        changed.write_bytes(original.read_bytes() + b"\n")
    with pytest.raises(AssertionError, match=re.escape(REGENERATE)):
        compare(name, original, changed)
