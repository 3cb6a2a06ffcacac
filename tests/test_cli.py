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


def test_a_damaged_shard_under_export_is_one_line_naming_the_file(tiny_release, tmp_path):
    """A shard overwritten in its footer: one line naming it and `sarlang1m verify`, exit 2, no traceback."""
    import shutil

    release = tmp_path / "sarlang-1m"
    shutil.copytree(tiny_release, release)
    shard = sorted(release.glob(schema.config_spec("vqa").split_glob("train")))[0]
    shard.write_bytes(shard.read_bytes()[:-64] + b"\0" * 64)
    result = run("export", "llava", release, "--out", tmp_path / "llava" / "vqa.json")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("sarlang1m export:")]
    assert line.startswith(f"sarlang1m export: error: {shard}: damaged Parquet shard")
    assert f"run `sarlang1m verify {release}`" in line
    assert not (tmp_path / "llava" / "vqa.json").exists()


def test_an_unknown_config_lists_the_configs_of_this_release(tiny_release, tmp_path):
    manifest = json.loads((tiny_release / schema.MANIFEST_FILE).read_text())
    absent = [spec.name for spec in schema.config_specs() if spec.name not in manifest["configs"]]
    assert absent  # the tiny release lacks some tiers: the package's full list would mislead
    result = run("export", "llava", tiny_release, "--config", "vqa-nope", "--out", tmp_path / "x.json")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"unknown config 'vqa-nope'; this release has {list(manifest['configs'])}" in result.stderr
    assert not any(f"'{name}'" in result.stderr for name in absent)


def test_a_raw_release_where_a_built_one_belongs_says_to_build_it(tiny_raw, tmp_path):
    result = run("export", "llava", tiny_raw, "--out", tmp_path / "x.json")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert f"{tiny_raw} is a raw release in the authors' layout" in result.stderr
    assert f"`sarlang1m build {tiny_raw} --out RELEASE`" in result.stderr


def test_output_into_a_closed_pipe_ends_quietly(tiny_raw, tmp_path):
    """`sarlang1m build ... | head -0`: the reader is gone before the command prints; exit 141, no traceback."""
    command = [sys.executable, "-m", "sarlang1m.cli", "build", str(tiny_raw), "--out", str(tmp_path / "out")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # like `head` exiting before the first line
    stderr = process.stderr.read().decode()
    assert process.wait() == 141, stderr
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr
