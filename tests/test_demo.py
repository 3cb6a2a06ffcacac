"""`sarlang1m demo` runs every step on a small synthetic release and reports what plain datasets loads."""

import shlex
import subprocess
import sys

import numpy as np
import PIL.Image
import pytest

from sarlang1m import demo, schema
from sarlang1m.card import preview
from sarlang1m.card.preview import MARGIN, WATERMARK_COLOUR
from sarlang1m.demo import DEMO_MARKER, run_demo
from sarlang1m.publish.manifest import read_manifest


def test_demo_runs_end_to_end(tmp_path, capsys):
    out = tmp_path / "demo"
    summary = run_demo(out, images=48, progress=False)
    printed = capsys.readouterr().out
    release = out / schema.DATASET_NAME
    manifest = read_manifest(release)
    assert manifest["synthetic"] is True
    for config in ("vqa", "captions"):
        for split, info in manifest["configs"][config]["splits"].items():
            assert summary["splits"][f"{config}/{split}"] == {"images": info["images"], "texts": info["texts"]}
    assert set(summary["applications"]) == set(schema.APPLICATIONS)
    assert sum(summary["tiers"].values()) == sum(summary["applications"].values())
    assert "SYNTHETIC" in printed
    assert "-> float32 (" in printed and "in [0.00, 1.00]" in printed  # a SAR GeoTIFF was decoded
    with PIL.Image.open(out / "contact_sheet.png") as sheet:
        assert sheet.width > 400 and sheet.height > 200
        top = np.asarray(sheet.convert("RGB").crop((MARGIN, MARGIN, MARGIN + 192, MARGIN + 40))).astype(int)
        red = top[..., 0] - top[..., 1:].max(axis=-1) > 100  # the watermark, in WATERMARK_COLOUR
        assert WATERMARK_COLOUR == (230, 0, 0) and red.sum() > 20  # "SYNTHETIC" on the image itself


def test_demo_replaces_its_own_output_but_nothing_else(tmp_path):
    out = tmp_path / "demo"
    run_demo(out, images=32, progress=False)
    assert (out / DEMO_MARKER).exists()
    run_demo(out, images=32, progress=False)
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="is not a folder the demo wrote"):
        run_demo(other, images=32, progress=False)
    assert (other / "notes.txt").read_text() == "keep"


def test_the_contact_sheet_shows_each_image_once(synthetic_release, tmp_path, monkeypatch):
    """One captioned image and one image with questions per source: never the same image twice."""
    shown = []
    draw = preview.contact_sheet
    monkeypatch.setattr(preview, "contact_sheet", lambda rows, **options: draw(shown.extend(rows) or shown, **options))
    demo._contact_sheet(synthetic_release, tmp_path / "contact_sheet.png")
    ids = [row["image_id"] for row in shown]
    assert len(ids) == len(set(ids)) and (tmp_path / "contact_sheet.png").is_file()
    assert {row["source"] for row in shown} == set(read_manifest(synthetic_release)["sar_statistics"]) | {"sardet_100k"}


@pytest.mark.parametrize("repo", [None, "me/sarlang-demo"])
def test_the_next_commands_the_demo_prints_run_offline(tmp_path, capsys, repo):
    """`verify` of the folder and `push --dry-run` (the Hub cannot be reached here: HF_HUB_OFFLINE=1)."""
    run_demo(tmp_path / "demo", images=32, repo_id=repo, progress=False)
    printed = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(printed) if line.startswith("next: "))
    commands = [line.split(": ", 1)[-1].strip() for line in printed[start:] if "sarlang1m " in line]
    assert [shlex.split(c)[1] for c in commands] == ["verify", "push"] and "--dry-run" in commands[1]
    assert (repo or "your-name/sarlang-1m-demo") in commands[1]
    for command in commands:
        done = subprocess.run(
            [sys.executable, "-m", "sarlang1m.cli", *shlex.split(command)[1:]], capture_output=True, text=True
        )
        assert done.returncode == 0, (command, done.stderr)
    assert "not checked against the Hub" in done.stdout and "dry run: nothing was uploaded" in done.stdout
