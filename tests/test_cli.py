"""The CLI is thin: it calls the package's functions and turns bad input into one clear line, exit 2."""

import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator

from sarlang1m import schema
from sarlang1m.cli import build_parser
from sarlang1m.synth.plan import MIN_IMAGES


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
    quiet = run("build", raw, "--out", out, "--overwrite", "--quiet")
    assert quiet.returncode == 0, quiet.stderr
    assert "writing shards" not in quiet.stderr and "rows (one per image and task)" in quiet.stdout


def test_synth_and_build_say_what_each_count_counts_and_agree(tmp_path):
    """synth's images are its progress bar's (used and unused ones); build's images are the distinct images
    the texts use, its rows one per image and task."""
    raw, out = tmp_path / "raw", tmp_path / "sarlang-1m"
    synth = run("synth", raw, "--images", 32, "--seed", 3)
    assert synth.returncode == 0, synth.stderr
    counts = re.search(r"(\d+) images \((\d+) used by texts, (\d+) unused\)", synth.stdout)
    assert counts is not None, synth.stdout
    images, used, unused = map(int, counts.groups())
    assert images == used + unused and f"| {images}/{images} " in synth.stderr  # the bar's count
    build = run("build", raw, "--out", out)
    assert build.returncode == 0, build.stderr
    manifest = json.loads((out / schema.MANIFEST_FILE).read_text())
    rows = sum(info["images"] for name in ("vqa", "captions") for info in manifest["configs"][name]["splits"].values())
    assert f"wrote {out}: {used} images in {rows} rows (one per image and task)" in build.stdout
    assert rows > used and re.search(rf"writing shards: 100%\|\S*\| {rows}/{rows} \[[^]]* rows/s", build.stderr)


def test_help_and_a_usage_error_import_no_datasets():
    """Listing the commands, or a command's usage error, does not pay for importing `datasets` (about 1 s)."""
    script = (
        "import contextlib, io, sys\n"
        "from sarlang1m.cli import main\n"
        "for argv in (['--help'], ['synth'], ['verify'], ['demo', '--images', '0']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "        try:\n"
        "            main(argv)\n"
        "        except SystemExit as exit_:\n"
        "            assert exit_.code in (0, 2), (argv, exit_.code)\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('datasets', 'pyarrow', 'torch')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_package_exports_load_the_function_whatever_imports_its_module_first():
    """The package's names are imported on first use; importing the module `sarlang1m.load` leaves
    `sarlang1m.load` the function."""
    script = (
        "import sarlang1m, sarlang1m.export, sarlang1m.load as by_path\n"
        "from sarlang1m import load\n"
        "print(callable(sarlang1m.load), sarlang1m.load is load is by_path, sarlang1m.pairs.__module__)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "sarlang1m.views"]


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


def _evaluate_in_process(capsys, *argv):
    """`sarlang1m evaluate ...` in this process: (exit status, stdout, stderr)."""
    from sarlang1m import cli

    try:
        cli.main(["evaluate", *map(str, argv)])
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    out, err = capsys.readouterr()
    return status, out, err


def test_evaluate_vqa_by_default_names_its_offline_judge_and_warns_on_partial_coverage(tiny_release, tmp_path):
    from sarlang1m.evaluate import load_vqa_references

    references = load_vqa_references(tiny_release)
    lines = [{"id": r.id, "prediction": r.answer.rstrip(".").lower()} for r in references[1:]]  # "yes" for "Yes."
    predictions = tmp_path / "p.jsonl"
    predictions.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = run("evaluate", "vqa", predictions, "--release", tiny_release, "--json", tmp_path / "r.json")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("VQA accuracy (%), protocol paper, judge synonyms (offline) [release ")
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["judge"] == "synonyms" and report["release_version"] == "1.0.0"
    assert report["overall"]["correct"] == len(lines)  # every answer equal to the truth but for case and period
    assert result.stderr.strip() == (
        f"sarlang1m evaluate: warning: 1 of {len(references)} questions have no prediction (counted wrong); "
        "see the problems in the report"
    )


def test_evaluate_without_a_usable_prediction_exits_2_with_one_line(tiny_release, tmp_path, capsys):
    from sarlang1m.evaluate import load_vqa_references

    question = load_vqa_references(tiny_release)[0]
    vqa_line = json.dumps({"id": question.id, "prediction": "yes"}) + "\n"
    cases = {
        "empty.jsonl": (b"", "the file is empty"),
        "latin1.jsonl": ('{"id": "x", "prediction": "très"}\n'.encode("latin-1"), "not UTF-8"),
        "p.csv": (b"id,prediction\nx,yes\n", "CSV"),
        "p.json": (f"[{vqa_line.strip()}]".encode(), "JSON array"),
        "keys.jsonl": (b'{"question_id": "x", "answer": "yes"}\n', "missing field 'id'"),
        "unknown.jsonl": (b'{"id": "nobody", "prediction": "yes"}\n', "none of its 1 prediction id(s) is a question"),
    }
    for name, (data, why) in cases.items():
        (tmp_path / name).write_bytes(data)
        status, out, err = _evaluate_in_process(capsys, "vqa", tmp_path / name, "--release", tiny_release)
        assert (status, out) == (2, ""), (name, err)
        assert err.startswith(f"sarlang1m evaluate: error: {tmp_path / name}: ") and why in err, err
        assert err.count("\n") == 1, err
    (tmp_path / "vqa.jsonl").write_text(vqa_line)
    status, out, err = _evaluate_in_process(capsys, "captions", tmp_path / "vqa.jsonl", "--release", tiny_release)
    assert (status, out) == (2, "") and err.count("\n") == 1
    assert "these are question ids: score VQA predictions with `sarlang1m evaluate vqa`" in err


def test_evaluate_on_a_damaged_shard_names_it_and_the_verify_command(tiny_release, tmp_path, capsys):
    copy = tmp_path / "sarlang-1m"
    shutil.copytree(tiny_release, copy)
    shard = sorted((copy / "data" / "vqa").rglob("test-*.parquet"))[0]
    shard.write_bytes(shard.read_bytes()[:100])
    (tmp_path / "p.jsonl").write_text('{"id": "x", "prediction": "yes"}\n')
    status, out, err = _evaluate_in_process(capsys, "vqa", tmp_path / "p.jsonl", "--release", copy)
    assert (status, out) == (2, "")
    assert err.startswith(f"sarlang1m evaluate: error: {shard}: not readable as Parquet")
    assert err.endswith(f"run `sarlang1m verify {copy}`\n") and err.count("\n") == 1


def test_evaluate_with_an_unreachable_judge_says_what_was_tried_and_exits_3(tiny_release, tmp_path):
    from sarlang1m.evaluate import load_vqa_references

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    lines = [{"id": r.id, "prediction": "something else"} for r in load_vqa_references(tiny_release)]
    predictions = tmp_path / "p.jsonl"
    predictions.write_text("".join(json.dumps(line) + "\n" for line in lines))
    url = f"http://127.0.0.1:{port}/v1"
    result = run("evaluate", "vqa", predictions, "--release", tiny_release, "--judge", url)
    assert result.returncode == 3 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"sarlang1m evaluate: error: judge endpoint {url}/chat/completions cannot be reached (")
    assert "tried 4 times over" in last
    assert result.stderr.count("retrying in") == 3  # each retry said as it happens, for one request only


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


# ------------------------------------------------------------------------------------ --help


def every_argument(
    parser: argparse.ArgumentParser, command: tuple[str, ...] = ("sarlang1m",)
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, argparse.Action]]:
    """(command, its parser, argument) for every argument of `parser` and of every command under it.

    A command's arguments are added when it first parses or prints its help: `format_help` adds them.
    """
    parser.format_help()
    for action in parser._actions:
        yield command, parser, action
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from every_argument(sub, (*command, name))


def stated_default(action: argparse.Action) -> bool:
    """Whether an argument has a default its help must state (not a flag's False, not None, not suppressed)."""
    if action.default in (None, argparse.SUPPRESS) or isinstance(action, argparse._SubParsersAction):
        return False
    return not (isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)))


def test_help_gives_every_option_a_text_and_its_default():
    """Walks the whole parser: every command (each one's arguments added), every option and positional."""
    arguments = list(every_argument(build_parser()))
    commands = {" ".join(command) for command, _, _ in arguments}
    assert commands == {
        "sarlang1m",
        *(f"sarlang1m {name}" for name in ("synth", "build", "demo", "verify", "push", "export", "prefetch")),
        "sarlang1m evaluate",
        "sarlang1m evaluate vqa",
        "sarlang1m evaluate captions",
    }
    own = {" ".join(c) for c, _, a in arguments if not set(a.option_strings) & {"-h", "--help", "--debug"}}
    assert own == commands  # every command has arguments of its own: each was completed before the walk
    problems = []
    for command, parser, action in arguments:
        name = f"{' '.join(command)} {'/'.join(action.option_strings) or action.metavar or action.dest}"
        if not action.help or action.help == argparse.SUPPRESS:
            problems.append(f"{name}: no help text")
            continue
        text = parser._get_formatter()._expand_help(action)
        if stated_default(action) and not ("(default: " in text and str(action.default) in text):
            problems.append(f"{name}: default {action.default!r} not stated in {text!r}")
        if isinstance(action, argparse._SubParsersAction):
            listed = {choice.dest: choice.help for choice in action._choices_actions}
            problems += [f"{name} {sub}: no line in the command list" for sub in action.choices if not listed.get(sub)]
    assert not problems, "\n".join(problems)


def test_help_states_the_fewest_images_synth_writes():
    helps = {" ".join(c): a.help for c, _, a in every_argument(build_parser()) if "--images" in a.option_strings}
    assert set(helps) == {"sarlang1m synth", "sarlang1m demo"}
    assert all(f"at least {MIN_IMAGES}" in text for text in helps.values()), helps
