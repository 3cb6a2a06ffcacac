"""The CLI is thin: it calls the package's functions and turns bad input into one clear line, exit 2."""

import json
import subprocess
import sys

from sarlang1m import schema


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "sarlang1m.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd
    )


def test_synth_build_verify(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "sarlang-1m"
    synth = run("synth", raw, "--images", 32, "--seed", 3, "--quiet")
    assert synth.returncode == 0, synth.stderr
    assert "SYNTHETIC" in synth.stdout
    build = run("build", raw, "--out", out, "--num-proc", 2, "--max-shard-size", "200KB")
    assert build.returncode == 0, build.stderr
    assert "writing shards" in build.stderr  # the progress bar
    manifest = json.loads((out / schema.MANIFEST_FILE).read_text())
    assert f"vqa              train: {manifest['configs']['vqa']['splits']['train']['images']} images" in build.stdout
    verify = run("verify", out)
    assert verify.returncode == 0 and "OK" in verify.stdout


def test_synth_real_sizes_and_image_size_exclude_each_other(tmp_path):
    both = run("synth", tmp_path / "raw", "--real-sizes", "--image-size", 64, "--quiet")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    assert not (tmp_path / "raw").exists()


def test_build_errors_are_one_clear_line(tmp_path):
    missing = run("build", tmp_path / "nope", "--out", tmp_path / "out")
    assert missing.returncode == 2
    assert missing.stderr.strip().startswith("sarlang1m build: error:") and "not a folder" in missing.stderr
    assert "Traceback" not in missing.stderr
    (tmp_path / "raw" / "Text").mkdir(parents=True)
    (tmp_path / "raw" / "Text" / "SARVQA1_train.csv").write_text("foo,bar\n1,2\n")
    header = run("build", tmp_path / "raw", "--out", tmp_path / "out")
    assert header.returncode == 2 and "SARVQA1_train.csv: line 1: unknown header" in header.stderr
    assert not (tmp_path / "out").exists()


def test_verify_reports_a_damaged_release(tiny_release, tmp_path):
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(tiny_release), str(copy)], check=True)
    (copy / schema.REPORT_FILE).write_text("{}")
    (copy / "extra.txt").write_text("not part of the release")
    result = run("verify", copy)
    assert result.returncode == 1
    assert f"{schema.REPORT_FILE}: bytes" in result.stdout and "extra.txt: not in the MANIFEST" in result.stdout
