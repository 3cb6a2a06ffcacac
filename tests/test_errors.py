"""Expected failures end in one line and their documented exit status; bugs keep their traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sarlang1m import cli, errors
from sarlang1m.sar import SARDecodeError


def run_main(code: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`cli.main(["verify", "x", *args])` in a fresh process, its command replaced by `code` (a function body)."""
    script = (
        "import sarlang1m.cli as cli, sarlang1m.errors as errors\n"
        "def fake(args):\n"
        + "".join(f"    {line}\n" for line in code.splitlines())
        + "cli.build_parser_original = cli.build_parser\n"
        "def build_parser():\n"
        "    parser = cli.build_parser_original()\n"
        "    parser._subparsers._group_actions[0].choices['verify'].set_defaults(run=fake)\n"
        "    return parser\n"
        "cli.build_parser = build_parser\n"
        "import sys; cli.main(sys.argv[1:])\n"
    )
    return subprocess.run([sys.executable, "-c", script, "verify", "x", *args], capture_output=True, text=True, env=env)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        ("errors.InputError('rows.csv: line 3: no answer')", errors.EXIT_INPUT),
        ("errors.VerificationError('data/a.parquet: sha256 differs')", errors.EXIT_CHECK_FAILED),
        ("errors.RemoteError('the Hub answered 503 on commit 2 of 5: run the same command again')", errors.EXIT_REMOTE),
        ("errors.missing_extra('rasterio', 'opening originals with GDAL', 'gis')", errors.EXIT_MISSING_EXTRA),
        ("FileNotFoundError(2, 'No such file or directory', 'preds.jsonl')", errors.EXIT_INPUT),
    ],
)
def test_expected_failures_are_one_line_with_their_exit_status(error: str, status: int) -> None:
    result = run_main(f"raise {error}")
    assert result.returncode == status, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("sarlang1m verify: error: ")
    assert "Traceback" not in result.stderr


def test_an_os_error_on_a_file_names_the_file() -> None:
    result = run_main("open('/no/such/folder/preds.jsonl')")
    assert result.stderr.strip() == "sarlang1m verify: error: /no/such/folder/preds.jsonl: No such file or directory"


def test_a_bug_keeps_its_traceback() -> None:
    for bug in ("raise ValueError('a bug')", "raise KeyError('a bug')", "raise OSError('no file named')"):
        result = run_main(bug)
        assert result.returncode == 1 and "Traceback" in result.stderr, (bug, result.stderr)


def test_debug_shows_the_traceback_of_an_expected_failure() -> None:
    failure = "raise errors.InputError('bad input')"
    for result in (
        run_main(failure, "--debug"),
        run_main(failure, env={**os.environ, errors.DEBUG_ENVIRONMENT_VARIABLE: "1"}),
    ):
        assert result.returncode == errors.EXIT_INPUT
        assert "Traceback" in result.stderr and result.stderr.endswith("sarlang1m verify: error: bad input\n")


def test_a_closed_pipe_ends_quietly() -> None:
    result = run_main("raise BrokenPipeError()")
    assert result.returncode == cli.EXIT_BROKEN_PIPE and result.stderr == ""


def test_every_package_error_is_a_sarlang_error_and_keeps_its_builtin_type() -> None:
    from sarlang1m.build.records import UnreadableImageError
    from sarlang1m.build.report import MissingImagesError
    from sarlang1m.evaluate.judges import JudgeError
    from sarlang1m.publish.hub import PushRefused
    from sarlang1m.raw.layout import RawReleaseError
    from sarlang1m.raw.texts import RawTextError

    for kind, builtin in (
        (SARDecodeError, ValueError),
        (PushRefused, ValueError),
        (RawReleaseError, ValueError),
        (RawTextError, ValueError),
        (UnreadableImageError, ValueError),
        (MissingImagesError, FileNotFoundError),
        (JudgeError, OSError),
        (errors.NotFoundError, FileNotFoundError),
        (errors.OutputExistsError, FileExistsError),
        (errors.MissingExtraError, ImportError),
    ):
        assert issubclass(kind, errors.SarlangError) and issubclass(kind, builtin), kind
