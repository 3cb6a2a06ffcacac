"""The `sarlang1m` argument parser: global options, then one command per `_add_*` function, in data-flow order.

A command's arguments are added when that command is parsed (`_CommandParser`): their defaults and choices
come from modules that import `datasets` (about 1 s), which neither ``sarlang1m --help`` nor another
command's usage error should pay for.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import DEBUG_ENVIRONMENT_VARIABLE
from . import commands

#: The description ``sarlang1m --help`` opens with.
DESCRIPTION = "`sarlang1m`: thin commands over the package's functions (each one is callable from Python too)."
_DEBUG_HELP = f"show the traceback of any failure (or set {DEBUG_ENVIRONMENT_VARIABLE}=1)"
#: The fewest images `sarlang1m synth` (and so `demo`) writes: `sarlang1m.synth.plan.MIN_IMAGES`, not imported here
#: because that module imports `datasets` (tests/test_cli.py keeps the two equal).
_SYNTH_MIN_IMAGES = 16
#: Adds a command's arguments to its parser.
AddArguments = Callable[[argparse.ArgumentParser], None]


class _CommandParser(argparse.ArgumentParser):
    """A command's parser, its arguments added by `add_arguments` when it first parses or prints help."""

    def __init__(self, *args: Any, add_arguments: AddArguments | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._add_arguments = add_arguments

    def complete(self) -> _CommandParser:
        """This parser with its arguments added (once)."""
        if self._add_arguments is not None:
            add, self._add_arguments = self._add_arguments, None
            add(self)
        return self

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self.complete()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self.complete()
        return super().format_help()

    def format_usage(self) -> str:
        self.complete()
        return super().format_usage()


def build_parser() -> argparse.ArgumentParser:
    """The `sarlang1m` parser: global options, then one sub-command per `_add_*` function, in data-flow order."""
    parser = argparse.ArgumentParser(prog="sarlang1m", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"sarlang1m {__version__}")
    parser.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    subparsers = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="COMMAND",
        parser_class=_CommandParser,
        help="what to run; `sarlang1m COMMAND --help` lists its options",
    )
    for name, help_text, add_arguments, run in _COMMANDS:
        command = subparsers.add_parser(name, help=help_text, parents=[_common_options()], add_arguments=add_arguments)
        command.set_defaults(run=run)
    return parser


def _common_options() -> _CommandParser:
    """Options every command accepts after its name too (``--debug``)."""
    common = _CommandParser(add_help=False)  # the type of the parsers it is a parent of
    # SUPPRESS keeps a command from resetting to False a --debug given before it.
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP)
    return common


def _positive_int(text: str) -> int:
    """An argument that must be a whole number of at least 1 (a count of images, processes, shards)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _byte_size(text: str) -> str:
    """A size such as 500MB or 2GB, checked here so that a typo is a usage error, not a failed build."""
    from datasets.utils.py_utils import convert_file_size_to_int  # datasets: about 1 s to import

    try:
        convert_file_size_to_int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 500MB or 2GB") from None
    return text


def _add_synth(parser: argparse.ArgumentParser) -> None:
    """`sarlang1m synth OUT`: a synthetic raw release."""
    parser.add_argument("out", type=Path, help="folder to create (must not exist or be empty)")
    parser.add_argument(
        "--images",
        type=_positive_int,
        default=120,
        help=f"number of images, at least {_SYNTH_MIN_IMAGES} (every source in every split) (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of every pixel and text: same seed, same bytes (default: %(default)s)"
    )
    parser.add_argument(
        "--paper-scale", action="store_true", help="the paper's 118,331 images and 1,126,277 texts (ignores --images)"
    )
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--image-size", type=int, help="side of every image in pixels (default: small, per source)")
    sizes.add_argument(
        "--real-sizes",
        action="store_true",
        help="each source at its real pixel size and type (SpaceNet6 900 px x 4 float32, DFC2023 512 px uint16, "
        "OpenEarthMap-SAR 1024 px uint8, SARDet-100K chips of 190-1024 px): slower and larger, for benchmarks",
    )
    parser.add_argument(
        "--upload",
        action="store_true",
        help="write it as the authors' upload: Text.zip and two image archives side by side (their names invented), "
        "the texts in the layout reported inside Text.zip (default: an unzipped tree)",
    )
    parser.add_argument(
        "--sardet-archive",
        action="store_true",
        help="write SARDet-100K as one archive, SARDet_100K.zip (default: a folder)",
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="processes generating pixels; the bytes do not depend on it (default: %(default)s)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_build(parser: argparse.ArgumentParser) -> None:
    """`sarlang1m build RAW --out OUT`: a release folder from a raw release."""
    from .. import schema

    parser.add_argument(
        "raw", help="the authors' raw release: its unzipped folder, a folder holding their archives, or one .zip"
    )
    parser.add_argument("--out", type=Path, required=True, help="release folder to write")
    parser.add_argument(
        "--sardet-root",
        help="SARDet-100K: a folder or one .zip (default: the folder holding JPEGImages/ in RAW, if any)",
    )
    parser.add_argument(
        "--num-proc", type=_positive_int, default=1, help="processes writing shards (default: %(default)s)"
    )
    parser.add_argument(
        "--max-shard-size",
        type=_byte_size,
        default="500MB",
        help="largest shard, a size such as 500MB or 2GB (default: %(default)s)",
    )
    parser.add_argument(
        "--shard-multiple",
        type=_positive_int,
        default=1,
        help="shards per partition a multiple of N (N = nodes x workers) (default: %(default)s)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing release folder")
    parser.add_argument(
        "--allow-missing", action="store_true", help="skip texts whose image is missing or unreadable (reported)"
    )
    parser.add_argument(
        "--text-format",
        choices=["json", "csv"],
        default="json",
        help="which of the authors' twin text files to read, JSON or CSV (default: %(default)s)",
    )
    parser.add_argument(
        "--version",
        default=schema.RELEASE_VERSION,
        help="release version X.Y.Z (no leading v) written in the card; push needs the same (default: %(default)s)",
    )
    parser.add_argument(
        "--repo",
        default=schema.DEFAULT_REPO_ID,
        help="Hub repo ORG/NAME the card and Croissant name; push needs the same (default: %(default)s)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_demo(parser: argparse.ArgumentParser) -> None:
    """`sarlang1m demo`: synth, build, load and a contact sheet, end to end."""
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("demo-output"),
        help="folder for everything the demo writes; a folder an earlier demo wrote is replaced (default: %(default)s)",
    )
    parser.add_argument(
        "--images",
        type=_positive_int,
        default=120,
        help=f"images of the synthetic raw release, at least {_SYNTH_MIN_IMAGES} (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic raw release (default: %(default)s)")
    parser.add_argument(
        "--repo",
        help="Hub repo ORG/NAME to build the release for, and to try `push --dry-run` with "
        "(default: a placeholder, your-name/sarlang-1m-demo)",
    )


def _add_verify(parser: argparse.ArgumentParser) -> None:
    """`sarlang1m verify TARGET`: a folder or a Hub revision against its MANIFEST."""
    parser.add_argument("target", help="a local release folder, or a Hub repo ORG/NAME@REVISION")
    parser.add_argument("--download", action="store_true", help="Hub: download and hash every file (slow, thorough)")


def _add_push(parser: argparse.ArgumentParser) -> None:
    """`sarlang1m push RELEASE --repo ORG/NAME --version X.Y.Z`: publish and tag."""
    parser.add_argument("release", type=Path, help="release folder written by `sarlang1m build`")
    parser.add_argument("--repo", required=True, help="Hub dataset repo, ORG/NAME")
    parser.add_argument("--version", required=True, help="X.Y.Z; the release must have been built with it")
    parser.add_argument("--private", action="store_true", help="create the repo private")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and touch nothing")
    parser.add_argument("--create-pr", action="store_true", help="open a pull request instead of committing to main")
    parser.add_argument("--allow-older", action="store_true", help="publish a version not newer than the latest tag")


def _add_evaluate(parser: argparse.ArgumentParser) -> None:
    """`sarlang1m evaluate {vqa,captions} PREDICTIONS --release R`: the benchmark's metrics."""
    from ..evaluate.judges import DEFAULT_JUDGE
    from ..evaluate.predictions import MISSING_POLICIES
    from ..evaluate.vqa import DEFAULT_PROTOCOL, PROTOCOLS

    tasks = parser.add_subparsers(dest="task", required=True, metavar="TASK", help="what the predictions answer")
    for task, help_text in (("vqa", "VQA accuracy (paper or strict protocol)"), ("captions", "BLEU, ROUGE-L, CIDEr")):
        sub = tasks.add_parser(task, help=help_text, parents=[_common_options()])
        sub.add_argument("predictions", type=Path, help="JSONL of {id, prediction}")
        sub.add_argument("--release", required=True, help="release folder, or ORG/NAME@REV on the Hub")
        sub.add_argument("--split", default="test", help="split the predictions answer (default: %(default)s)")
        sub.add_argument("--config", help=f"restrict to a config (default: {task})")
        sub.add_argument(
            "--missing",
            choices=MISSING_POLICIES,
            default="wrong",
            help="a reference without a prediction counts as wrong (an empty caption), or with skip is left out "
            "(default: %(default)s)",
        )
        sub.add_argument("--json", type=Path, help="also write the full report as JSON to this file")
        if task == "vqa":
            sub.add_argument(
                "--protocol",
                choices=PROTOCOLS,
                default=DEFAULT_PROTOCOL,
                help="paper: the authors' rule; strict: answers compared as words, no substring match "
                "(default: %(default)s)",
            )
            sub.add_argument(
                "--judge",
                default=DEFAULT_JUDGE,
                help=f"{DEFAULT_JUDGE} (offline), none (a lower bound), or an OpenAI-compatible base URL "
                "(default: %(default)s)",
            )


def _add_export(parser: argparse.ArgumentParser) -> None:
    """`sarlang1m export FORMAT RELEASE --out FILE`: chat files for fine-tuning tools."""
    from .. import schema
    from ..export import FORMATS

    parser.add_argument("format", choices=FORMATS, help="the fine-tuning tool's format: " + ", ".join(FORMATS))
    parser.add_argument("release", help="release folder, or ORG/NAME on the Hub")
    parser.add_argument("--config", default="vqa", help="config to export, e.g. captions (default: %(default)s)")
    parser.add_argument("--split", default="train", help="split to export (default: %(default)s)")
    parser.add_argument("--out", type=Path, required=True, help="output: .json (a JSON array) or .jsonl (JSON lines)")
    parser.add_argument("--images-dir", type=Path, help="folder for the images (default: images/ next to --out)")
    parser.add_argument(
        "--class-prompts",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="prepend the SARVQA1 class prompts (default: on for configs mixing SARVQA1 and SARVQA2)",
    )
    parser.add_argument(
        "--vqa-prompt",
        default=schema.VQA_PROMPT,
        help="user turn of a question; needs {question} (default: the paper's, %(default)r)",
    )
    parser.add_argument(
        "--caption-prompt",
        default=schema.CAPTION_PROMPT,
        help="user turn of a caption (default: the paper's, %(default)r)",
    )
    parser.add_argument("--dataset-name", help="LLaMA-Factory dataset name (default: sarlang1m_<config>_<split>)")
    parser.add_argument("--revision", help="Hub revision (default: the release this package pins)")


def _add_prefetch(parser: argparse.ArgumentParser) -> None:
    """`sarlang1m prefetch [CONFIG]`: the original GeoTIFFs, for offline decoding."""
    from .. import schema
    from ..originals import DEFAULT_FETCH_WORKERS

    parser.add_argument("config", nargs="?", default="vqa", help="config whose originals to fetch (default: vqa)")
    parser.add_argument("--release", help="ORG/NAME[@REV] on the Hub (default: the release this package pins)")
    parser.add_argument("--revision", help="Hub revision (default: the release this package pins)")
    parser.add_argument("--split", help="only this split (default: every split)")
    parser.add_argument(
        "--source", action="append", choices=sorted(schema.NAMED_SOURCES), help="only this source dataset (repeatable)"
    )
    parser.add_argument(
        "--local-dir",
        type=Path,
        help="a folder to fetch the originals into (default: huggingface_hub's cache); a Hub release only",
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=DEFAULT_FETCH_WORKERS,
        help=f"concurrent downloads (default: {DEFAULT_FETCH_WORKERS})",
    )


#: Each command: its name, its line in ``sarlang1m --help``, the function adding its arguments, what it runs.
_COMMANDS: tuple[tuple[str, str, AddArguments, Callable[[argparse.Namespace], None]], ...] = (
    ("synth", "write a SYNTHETIC raw release in the authors' layout", _add_synth, commands.synth),
    ("build", "raw release -> release folder (Parquet + card + MANIFEST)", _add_build, commands.build),
    ("demo", "synth -> build -> load -> summary and contact sheet, on a small default", _add_demo, commands.demo),
    ("verify", "check a release folder or ORG/NAME@REV against its MANIFEST", _add_verify, commands.verify),
    ("push", "upload a release folder to the Hub and tag it vX.Y.Z", _add_push, commands.push),
    ("evaluate", "score predictions with the benchmark's metrics", _add_evaluate, commands.evaluate),
    ("export", "chat files for fine-tuning tools (LLaMA-Factory, LLaVA, messages)", _add_export, commands.export),
    ("prefetch", "download the original GeoTIFFs of a config for offline decoding", _add_prefetch, commands.prefetch),
)
