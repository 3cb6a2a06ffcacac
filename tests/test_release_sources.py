"""`build` from every form of the same raw release: unzipped, the upload's archives, one archive (synthetic).

Every form must give byte-identical data/ and originals/; hostile archive members are never read and are
reported; a damaged archive or member stops the build with one line naming it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from zip_archives import DEVICE, SYMLINK, write_zip, zip_tree

from sarlang1m.build.release import build_release
from sarlang1m.raw.files import read_ref
from sarlang1m.synth import write_synthetic_release

IMAGES = 48


@pytest.fixture(scope="module")
def raw_forms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same synthetic release (seed 2) unzipped, as the upload (SARDet-100K as one archive), and as one zip."""
    root = tmp_path_factory.mktemp("forms")
    write_synthetic_release(root / "tree", images=IMAGES, seed=2, progress=False)
    write_synthetic_release(root / "upload", images=IMAGES, seed=2, upload=True, sardet_archive=True, progress=False)
    zip_tree(root / "one.zip", root / "tree", compression=zipfile.ZIP_STORED)
    return {"tree": root / "tree", "upload": root / "upload", "one": root / "one.zip"}


@pytest.fixture(scope="module")
def tree_release(raw_forms, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tree-release") / "release"
    build_release(raw_forms["tree"], out, progress=False)
    return out


def data_and_originals(release: Path) -> dict[str, dict]:
    manifest = json.loads((release / "MANIFEST.json").read_text())
    files = {path: entry for path, entry in manifest["files"].items() if path.startswith(("data/", "originals/"))}
    return {"files": files, "configs": manifest["configs"], "sar_statistics": manifest["sar_statistics"]}


def test_the_upload_and_one_archive_build_what_the_unzipped_tree_does(raw_forms, tree_release, tmp_path):
    expected = data_and_originals(tree_release)
    assert any(path.startswith("originals/") for path in expected["files"])
    build_release(raw_forms["upload"], tmp_path / "upload", num_proc=2, progress=False)
    assert data_and_originals(tmp_path / "upload") == expected
    build_release(raw_forms["one"], tmp_path / "one", text_format="csv", progress=False)
    assert data_and_originals(tmp_path / "one") == expected
    report = json.loads((tmp_path / "upload" / "build_report.json").read_text())
    assert report["synthetic"] and "inputs_refused" not in report
    assert "Text/Caption/train/Caption_train.json" in [f["path"] for f in report["files"]]


def test_sardet_from_its_own_archive_or_folder(raw_forms, tree_release, tmp_path):
    upload = tmp_path / "upload"
    shutil.copytree(raw_forms["upload"], upload)
    sardet = tmp_path / "elsewhere" / "SARDet_100K.zip"
    sardet.parent.mkdir()
    (upload / "SARDet_100K.zip").rename(sardet)
    build_release(upload, tmp_path / "a", sardet_root=sardet, progress=False)
    assert data_and_originals(tmp_path / "a") == data_and_originals(tree_release)
    build_release(upload, tmp_path / "b", sardet_root=raw_forms["tree"] / "SARDet_100K", progress=False)
    assert data_and_originals(tmp_path / "b") == data_and_originals(tree_release)


def test_hostile_members_beside_the_upload_are_never_read_and_each_is_reported(raw_forms, tree_release, tmp_path):
    upload = tmp_path / "upload"
    shutil.copytree(raw_forms["upload"], upload)
    write_zip(
        upload / "extra.zip",
        {
            "../escaped.png": b"escape",
            "/tmp/absolute-sarlang1m-test.png": b"absolute",
            "C:/Windows/x.png": b"drive",
            "SARimages_original/link.tif": b"/etc/passwd",
            "SARimages_original/dev.tif": b"",
            "Text/VQA/train/SARVQA1\x1b[2J_train.json": b"[]",
        },
        modes={"SARimages_original/link.tif": SYMLINK, "SARimages_original/dev.tif": DEVICE},
    )
    result = build_release(upload, tmp_path / "release", progress=False)
    assert data_and_originals(tmp_path / "release") == data_and_originals(tree_release)
    report = json.loads((tmp_path / "release" / "build_report.json").read_text())
    refused = {entry["entry"].split(": ", 1)[1]: entry["reason"] for entry in report["inputs_refused"]}
    assert refused == {
        "extra.zip: '../escaped.png'": "a '..' that leaves the archive",
        "extra.zip: '/tmp/absolute-sarlang1m-test.png'": "an absolute path",
        "extra.zip: 'C:/Windows/x.png'": "a drive letter",
        "extra.zip: 'SARimages_original/link.tif'": "a symbolic link",
        "extra.zip: 'SARimages_original/dev.tif'": "a device, FIFO or socket",
        "extra.zip: 'Text/VQA/train/SARVQA1\\x1b[2J_train.json'": "a control character in its name",
    }
    assert any("6 input(s) not read" in warning for warning in result.warnings)
    assert not (tmp_path / "escaped.png").exists() and not Path("/tmp/absolute-sarlang1m-test.png").exists()


def _build_cli(raw: Path, out: Path, *options: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "sarlang1m.cli", "build", str(raw), "--out", str(out), "--quiet", *options]
    return subprocess.run(command, capture_output=True, text=True)


def test_a_damaged_member_stops_the_build_with_one_line_naming_archive_and_member(raw_forms, tree_release, tmp_path):
    upload = tmp_path / "upload"
    shutil.copytree(raw_forms["upload"], upload)
    archive = upload / "SARimages_original.zip"
    used = sorted(p.rsplit("/", 1)[1] for p in data_and_originals(tree_release)["files"] if p.startswith("originals/"))
    with zipfile.ZipFile(archive) as opened:
        info = opened.getinfo(f"SARimages_original/{used[0]}")
    data = bytearray(archive.read_bytes())
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[middle : middle + 16] = bytes(16)
    archive.write_bytes(bytes(data))
    failed = _build_cli(upload, tmp_path / "out", "--num-proc", "2")
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    (line,) = failed.stderr.strip().splitlines()
    assert line.startswith(f"sarlang1m build: error: {archive}: {info.filename}: damaged in its archive (")
    assert line.endswith("download the archive again") and not (tmp_path / "out").exists()


def test_a_truncated_archive_stops_the_build_with_one_line_naming_it(raw_forms, tmp_path):
    upload = tmp_path / "upload"
    shutil.copytree(raw_forms["upload"], upload)
    archive = upload / "SARimages_preprocessed.zip"
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    failed = _build_cli(upload, tmp_path / "out")
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    (line,) = failed.stderr.strip().splitlines()
    assert line.startswith(f"sarlang1m build: error: {archive}: not a readable zip archive (")


def test_links_in_an_unzipped_tree_are_not_followed_and_are_reported(tiny_raw, tmp_path):
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"not part of the release")
    (tiny_raw / "SARimages" / "extra.png").symlink_to(outside)
    build_release(tiny_raw, tmp_path / "release", progress=False)
    report = json.loads((tmp_path / "release" / "build_report.json").read_text())
    reason = "a symbolic link: not followed (give its target instead)"
    assert report["inputs_refused"] == [{"entry": f"{tiny_raw}: SARimages/extra.png", "reason": reason}]
    assert any("1 input(s) not read" in warning for warning in report["warnings"])


def test_each_original_is_read_from_the_inputs_once_though_two_tasks_use_it(tiny_raw, tmp_path, monkeypatch):
    """SN6_Rotterdam_1 has captions and questions: its original is read from the inputs for one task, and
    from the release's stored copy for the other (an archive member is not inflated twice)."""
    from sarlang1m.build import records

    reads: list[str] = []

    def counting(ref: str, limit: int) -> bytes:
        reads.append(ref)
        return read_ref(ref, limit)

    monkeypatch.setattr(records, "read_ref", counting)
    build_release(tiny_raw, tmp_path / "release", progress=False)
    originals = [ref for ref in reads if ref.endswith((".tif", ".tiff"))]
    assert sorted(originals) == sorted(set(originals)) and any("SN6_Rotterdam_1.tif" in ref for ref in originals)
    rows = pq.read_table(tmp_path / "release" / "data" / "captions").to_pylist()
    assert any(row["sar_path"] and row["image_id"] == "SN6_Rotterdam_1" for row in rows)
