"""Which radiometry each original gets, and who decided it: the file, the source's rule, or the pixels.

Every image here is synthetic (the tiny hand-made release, or `sarlang1m synth` output).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from datasets import load_dataset
from tiny_raw import encode_tiff, tiff_bytes

from sarlang1m import schema
from sarlang1m.build.records import decide_radiometry
from sarlang1m.build.release import build_release
from sarlang1m.decode import decode_sar
from sarlang1m.load import load
from sarlang1m.publish.manifest import read_manifest
from sarlang1m.resolve import read_release_manifest
from sarlang1m.synth import write_synthetic_release
from sarlang1m.synth.layout import RADIOMETRY

#: Originals of the tiny release, and what decides each one's radiometry there (see tiny_raw.py).
TINY_DECISIONS = {
    "spacenet6": ("db", "source_rule"),  # float32, no declaration: SpaceNet6's documented dB
    "dfc2023": ("amplitude", "pixels"),  # uint16, no declaration, no documented rule
    "openearthmap_sar": ("amplitude", "file"),  # uint8 that says radiometry=amplitude
}
TINY_OEM = "France_Alpes-Maritimes_Nice_3"


@pytest.mark.parametrize(
    ("source", "data", "expected"),
    [
        ("openearthmap_sar", tiff_bytes(1, dtype=np.uint8, description="radiometry=amplitude"), ("amplitude", "file")),
        ("openearthmap_sar", tiff_bytes(1, dtype=np.uint8), ("display", "pixels")),
        ("spacenet6", tiff_bytes(1, bands=4), ("db", "source_rule")),
        ("spacenet6", tiff_bytes(1, bands=4, description="radiometry=intensity"), ("intensity", "file")),
        ("spacenet6", tiff_bytes(1, dtype=np.uint8), ("display", "pixels")),  # the dB rule cannot hold for uint8
        ("dfc2023", tiff_bytes(1, dtype=np.uint16, description="radiometry=db"), ("amplitude", "pixels")),  # cannot
        ("unknown", tiff_bytes(1), ("db", "pixels")),  # float with negative values
    ],
)
def test_radiometry_is_decided_by_the_file_then_the_source_rule_then_the_pixels(source, data, expected) -> None:
    decision, _, header = decide_radiometry(data, source)
    assert (decision.radiometry, decision.decided_by) == expected
    assert header.bands in (1, 4)


def test_a_float_file_without_a_minimum_is_decoded_once_to_tell_its_sign() -> None:
    data = encode_tiff(np.full((8, 8), 3.5, np.float32), photometric="minisblack")
    decision, pixels, _ = decide_radiometry(data, "dfc2023")
    assert (decision.radiometry, decision.decided_by) == ("amplitude", "pixels")
    assert pixels is not None and pixels.shape == (1, 8, 8)  # handed back, so the build does not decode again


def test_the_build_report_and_the_card_say_per_source_which_rule_decided(built_tiny_release) -> None:
    report = json.loads((built_tiny_release / schema.REPORT_FILE).read_text(encoding="utf-8"))
    assert {
        source: (next(iter(entry["radiometry"])), next(iter(entry["decided_by"])))
        for source, entry in report["sar_radiometry"].items()
    } == TINY_DECISIONS
    assert all(entry["images"] == 1 for entry in report["sar_radiometry"].values())
    card = (built_tiny_release / schema.CARD_FILE).read_text(encoding="utf-8")
    assert "| OpenEarthMap-SAR (Umbra) | 1 | amplitude (1) | the file's own metadata (1) |" in card
    assert "| SpaceNet6 (Rotterdam) | 1 | db (1) | the source's documented rule (1) |" in card
    assert "| IEEE GRSS Data Fusion Contest 2023 | 1 | amplitude (1) | the pixels (1) |" in card


def test_every_source_radiometry_comes_out_as_synth_wrote_it(tmp_path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "release"
    write_synthetic_release(raw, images=20, seed=3, image_size=32, progress=False)
    build_release(raw, out, progress=False)
    seen: dict[str, set[str]] = {}
    for config in ("captions", "vqa"):
        for split in schema.SPLITS:
            rows = load_dataset(str(out), config, split=split, columns=["source", "sar_radiometry"])
            for row in rows:
                if row["source"] != "sardet_100k":
                    seen.setdefault(row["source"], set()).add(row["sar_radiometry"])
    assert seen == {source: {radiometry} for source, radiometry in RADIOMETRY.items()}
    report = json.loads((out / schema.REPORT_FILE).read_text(encoding="utf-8"))
    assert {source: entry["decided_by"].keys() for source, entry in report["sar_radiometry"].items()} == {
        source: {"file"} for source in RADIOMETRY
    }
    statistics = read_manifest(out)["sar_statistics"]  # every source with originals can be standardised
    assert {source: entry["radiometry"] for source, entry in statistics.items()} == RADIOMETRY


@pytest.mark.filterwarnings("ignore:normalize='standardize'.*8-bit display pixels:UserWarning")
def test_standardize_works_on_every_config_of_the_tiny_release(built_tiny_release) -> None:
    statistics = read_release_manifest(built_tiny_release)["sar_statistics"]
    assert set(statistics) == set(TINY_DECISIONS)
    decoded = 0
    for name, config in read_manifest(built_tiny_release)["configs"].items():
        for split in config["splits"]:
            rows = load(
                name, split=split, source=built_tiny_release, decode="sar", sar_options={"normalize": "standardize"}
            )
            for row in rows:
                if row["pixels_source"] == "sar":
                    mean, std = statistics[row["source"]]["mean_db"], statistics[row["source"]]["std_db"]
                    assert row["pixels"].shape[0] == len(mean) == len(std)
                    decoded += 1
    assert decoded >= 3


def test_the_default_decode_of_an_amplitude_uint8_original_is_its_db_stretch(built_tiny_release) -> None:
    original = (built_tiny_release.parent / "raw" / "SARimages_original" / f"{TINY_OEM}.tif").read_bytes()
    row = next(
        r for r in load("vqa", split="test", source=built_tiny_release, decode="sar") if r["image_id"] == TINY_OEM
    )
    assert row["pixels_radiometry"] == "amplitude"
    np.testing.assert_array_equal(row["pixels"], decode_sar(original, radiometry="amplitude"))
    as_display = decode_sar(original, radiometry="display")  # what it was before: x / 255
    assert not np.allclose(row["pixels"], as_display)
    np.testing.assert_array_equal(decode_sar(original), row["pixels"])  # the file's own word, without the release
