"""`sarlang1m`: thin commands over the package's functions (each one is callable from Python too)."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__, schema
from .errors import DEBUG_ENVIRONMENT_VARIABLE, EXIT_INPUT, EXIT_INTERRUPTED, SarlangError

#: Exit status after stdout was closed by the reader (`sarlang1m ... | head`): 128 + SIGPIPE, as a shell reports.
EXIT_BROKEN_PIPE = 141


def _synth(args: argparse.Namespace) -> None:
    from .synth import write_synthetic_release

    summary = write_synthetic_release(
        args.out,
        images=args.images,
        seed=args.seed,
        paper_scale=args.paper_scale,
        image_size=args.image_size,
        real_sizes=args.real_sizes,
        workers=args.workers,
        progress=not args.quiet,
    )
    print(
        f"wrote a SYNTHETIC raw release to {summary.root}: {summary.total_images} images, "
        f"{summary.total_texts} texts, {summary.files} files, {summary.bytes / 2**20:.1f} MiB "
        f"in {summary.seconds:.1f} s (seed {summary.seed})"
    )


def _build(args: argparse.Namespace) -> None:
    from .build.release import build_release

    result = build_release(
        args.raw,
        args.out,
        sardet_root=args.sardet_root,
        num_proc=args.num_proc,
        max_shard_size=args.max_shard_size,
        shard_multiple=args.shard_multiple,
        overwrite=args.overwrite,
        allow_missing=args.allow_missing,
        text_format=args.text_format,
        version=args.version,
        repo_id=args.repo,
    )
    print(f"wrote {result.out}: {result.images} image rows, {result.texts} texts, {result.skipped} skipped")
    for name, config in result.configs.items():
        splits = ", ".join(f"{s}: {i.images} images / {i.texts} texts" for s, i in config.splits.items())
        print(f"  {name:16s} {splits}")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if result.skipped:
        print(f"see {result.out / schema.REPORT_FILE} for the {result.skipped} skipped text(s) and why")


def _demo(args: argparse.Namespace) -> None:
    from .demo import run_demo

    run_demo(args.out, images=args.images, seed=args.seed)


def _verify(args: argparse.Namespace) -> None:
    from .publish.hub import verify

    result = verify(args.target, download=args.download)
    print(result.summary())
    if not result.ok:
        raise SystemExit(1)


def _push(args: argparse.Namespace) -> None:
    from .publish.hub import push_release

    result = push_release(
        args.release,
        args.repo,
        args.version,
        private=args.private,
        dry_run=args.dry_run,
        create_pr=args.create_pr,
        allow_older=args.allow_older,
    )
    print(result.plan.summary())
    if args.dry_run:
        print("dry run: nothing was uploaded")
        return
    verification = result.verification
    if verification is None:  # only a dry run skips the check, and it returned above
        raise RuntimeError("push_release returned no verification of what it uploaded")
    print(verification.summary())
    if not verification.ok:
        raise SystemExit(1)
    if result.pull_request:
        print(f"opened {result.pull_request}; after it is merged, run the same push again to tag and verify")
        return
    print(f"published {args.repo}@{result.plan.tag} at commit {result.commit}")
    if result.plan.branch != "main":
        print(
            f"{result.plan.tag} is older than the newest version: it was committed to branch "
            f"{result.plan.branch}, main was not moved"
        )
    print(f"recorded {result.plan.tag} -> {result.commit} in {result.releases_file}")
    print(f"Load it with:\n  from datasets import load_dataset; ds = {result.load_line}")


def _evaluate(args: argparse.Namespace) -> None:
    import json

    from .evaluate import CaptionResult, VQAResult, evaluate_captions, evaluate_vqa

    common = {"split": args.split, "missing": args.missing}
    if args.config:
        common["config"] = args.config
    result: VQAResult | CaptionResult
    if args.task == "vqa":
        result = evaluate_vqa(args.predictions, args.release, protocol=args.protocol, judge=args.judge, **common)
    else:
        result = evaluate_captions(args.predictions, args.release, **common)
    print(result.table())
    warning = result.warning()
    if warning:
        print(f"sarlang1m evaluate: warning: {warning}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")


def _export(args: argparse.Namespace) -> None:
    from .export import export

    result = export(
        args.release,
        args.format,
        args.out,
        config=args.config,
        split=args.split,
        images_dir=args.images_dir,
        class_prompts=args.class_prompts,
        vqa_prompt=args.vqa_prompt,
        caption_prompt=args.caption_prompt,
        dataset_name=args.dataset_name,
        revision=args.revision,
    )
    print(result.summary())


def _prefetch(args: argparse.Namespace) -> None:
    from .originals import prefetch

    result = prefetch(
        args.config,
        split=args.split,
        source=args.release,
        revision=args.revision,
        sources=args.source,
        local_dir=args.local_dir,
        workers=args.workers,
    )
    print(f"{result.files} originals ({result.bytes / 2**20:.1f} MiB) are in {result.root}")


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
    from datasets.utils.py_utils import convert_file_size_to_int

    try:
        convert_file_size_to_int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 500MB or 2GB") from None
    return text


def build_parser() -> argparse.ArgumentParser:
    """The `sarlang1m` parser: global options, then one sub-command per `_add_*` function, in data-flow order."""
    parser = argparse.ArgumentParser(prog="sarlang1m", description=__doc__)
    parser.add_argument("--version", action="version", version=f"sarlang1m {__version__}")
    debug_help = f"show the traceback of any failure (or set {DEBUG_ENVIRONMENT_VARIABLE}=1)"
    parser.add_argument("--debug", action="store_true", help=debug_help)
    # --debug is also accepted after the command; SUPPRESS keeps a subcommand from resetting it to False.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug_help)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_synth, _add_build, _add_demo, _add_verify, _add_push, _add_evaluate, _add_export, _add_prefetch):
        add(commands, common)
    return parser


#: What `add_subparsers` returns; each `_add_*` function adds one command to it.
_Commands = argparse._SubParsersAction


def _add_synth(commands: _Commands, common: argparse.ArgumentParser) -> None:
    """`sarlang1m synth OUT`: a synthetic raw release."""
    synth = commands.add_parser("synth", help="write a SYNTHETIC raw release in the authors' layout", parents=[common])
    synth.add_argument("out", type=Path, help="folder to create (must not exist or be empty)")
    synth.add_argument("--images", type=_positive_int, default=120, help="number of images (default: 120)")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--paper-scale", action="store_true", help="the paper's 118,331 images and 1,126,277 texts")
    sizes = synth.add_mutually_exclusive_group()
    sizes.add_argument("--image-size", type=int, help="side of every image in pixels (default: small, per source)")
    sizes.add_argument(
        "--real-sizes",
        action="store_true",
        help="each source at its real pixel size and type (SpaceNet6 900 px x 4 float32, DFC2023 512 px uint16, "
        "OpenEarthMap-SAR 1024 px uint8, SARDet-100K chips of 190-1024 px): slower and larger, for benchmarks",
    )
    synth.add_argument("--workers", type=_positive_int, default=1, help="processes generating pixels")
    synth.add_argument("--quiet", action="store_true", help="no progress bar")
    synth.set_defaults(run=_synth)


def _add_build(commands: _Commands, common: argparse.ArgumentParser) -> None:
    """`sarlang1m build RAW --out OUT`: a release folder from a raw release."""
    build = commands.add_parser(
        "build", help="raw release -> release folder (Parquet + card + MANIFEST)", parents=[common]
    )
    build.add_argument("raw", type=Path, help="folder of the authors' raw release")
    build.add_argument("--out", type=Path, required=True, help="release folder to write")
    build.add_argument("--sardet-root", type=Path, help="SARDet-100K root (default: RAW/SARDet_100K if present)")
    build.add_argument("--num-proc", type=_positive_int, default=1, help="processes writing shards")
    build.add_argument("--max-shard-size", type=_byte_size, default="500MB", help="largest shard, e.g. 500MB (default)")
    build.add_argument(
        "--shard-multiple",
        type=_positive_int,
        default=1,
        help="shards per partition a multiple of N (N = nodes x workers)",
    )
    build.add_argument("--overwrite", action="store_true", help="replace an existing release folder")
    build.add_argument(
        "--allow-missing", action="store_true", help="skip texts whose image is missing or unreadable (reported)"
    )
    build.add_argument("--text-format", choices=["json", "csv"], default="json", help="which twin to read")
    build.add_argument("--version", default=schema.RELEASE_VERSION, help="release version written in the card")
    build.add_argument(
        "--repo",
        default=schema.DEFAULT_REPO_ID,
        help=f"Hub repo ORG/NAME the card and Croissant name (default: {schema.DEFAULT_REPO_ID}); push needs the same",
    )
    build.set_defaults(run=_build)


def _add_demo(commands: _Commands, common: argparse.ArgumentParser) -> None:
    """`sarlang1m demo`: synth, build, load and a contact sheet, end to end."""
    demo = commands.add_parser(
        "demo", help="synth -> build -> load -> summary and contact sheet, on a small default", parents=[common]
    )
    demo.add_argument("--out", type=Path, default=Path("demo-output"), help="folder for everything the demo writes")
    demo.add_argument("--images", type=_positive_int, default=120)
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(run=_demo)


def _add_verify(commands: _Commands, common: argparse.ArgumentParser) -> None:
    """`sarlang1m verify TARGET`: a folder or a Hub revision against its MANIFEST."""
    verify = commands.add_parser(
        "verify", help="check a release folder or ORG/NAME@REV against its MANIFEST", parents=[common]
    )
    verify.add_argument("target", help="a local release folder, or a Hub repo ORG/NAME@REVISION")
    verify.add_argument("--download", action="store_true", help="Hub: download and hash every file (slow, thorough)")
    verify.set_defaults(run=_verify)


def _add_push(commands: _Commands, common: argparse.ArgumentParser) -> None:
    """`sarlang1m push RELEASE --repo ORG/NAME --version X.Y.Z`: publish and tag."""
    push = commands.add_parser("push", help="upload a release folder to the Hub and tag it vX.Y.Z", parents=[common])
    push.add_argument("release", type=Path, help="release folder written by `sarlang1m build`")
    push.add_argument("--repo", required=True, help="Hub dataset repo, ORG/NAME")
    push.add_argument("--version", required=True, help="X.Y.Z; the release must have been built with it")
    push.add_argument("--private", action="store_true", help="create the repo private")
    push.add_argument("--dry-run", action="store_true", help="print the plan and touch nothing")
    push.add_argument("--create-pr", action="store_true", help="open a pull request instead of committing to main")
    push.add_argument("--allow-older", action="store_true", help="publish a version not newer than the latest tag")
    push.set_defaults(run=_push)


def _add_evaluate(commands: _Commands, common: argparse.ArgumentParser) -> None:
    """`sarlang1m evaluate {vqa,captions} PREDICTIONS --release R`: the benchmark's metrics."""
    from .evaluate.judges import DEFAULT_JUDGE
    from .evaluate.predictions import MISSING_POLICIES
    from .evaluate.vqa import DEFAULT_PROTOCOL, PROTOCOLS

    evaluate = commands.add_parser("evaluate", help="score predictions with the benchmark's metrics", parents=[common])
    tasks = evaluate.add_subparsers(dest="task", required=True, metavar="TASK")
    for task, help_text in (("vqa", "VQA accuracy (paper or strict protocol)"), ("captions", "BLEU, ROUGE-L, CIDEr")):
        sub = tasks.add_parser(task, help=help_text, parents=[common])
        sub.add_argument("predictions", type=Path, help="JSONL of {id, prediction}")
        sub.add_argument("--release", required=True, help="release folder, or ORG/NAME@REV on the Hub")
        sub.add_argument("--split", default="test")
        sub.add_argument("--config", help=f"restrict to a config (default: {task})")
        sub.add_argument("--missing", choices=MISSING_POLICIES, default="wrong", help="how missing predictions count")
        sub.add_argument("--json", type=Path, help="also write the full report as JSON")
        if task == "vqa":
            sub.add_argument(
                "--protocol", choices=PROTOCOLS, default=DEFAULT_PROTOCOL, help="the authors' rule (default) or strict"
            )
            sub.add_argument(
                "--judge",
                default=DEFAULT_JUDGE,
                help=f"{DEFAULT_JUDGE} (default: offline), none (a lower bound), or an OpenAI-compatible base URL",
            )
        sub.set_defaults(run=_evaluate)


def _add_export(commands: _Commands, common: argparse.ArgumentParser) -> None:
    """`sarlang1m export FORMAT RELEASE --out FILE`: chat files for fine-tuning tools."""
    from .export import FORMATS

    export = commands.add_parser(
        "export", help="chat files for fine-tuning tools (LLaMA-Factory, LLaVA, messages)", parents=[common]
    )
    export.add_argument("format", choices=FORMATS)
    export.add_argument("release", help="release folder, or ORG/NAME on the Hub")
    export.add_argument("--config", default="vqa")
    export.add_argument("--split", default="train")
    export.add_argument("--out", type=Path, required=True, help="output: .json (a JSON array) or .jsonl (JSON lines)")
    export.add_argument("--images-dir", type=Path, help="folder for the images (default: images/ next to --out)")
    export.add_argument(
        "--class-prompts",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="prepend the SARVQA1 class prompts (default: on for configs mixing SARVQA1 and SARVQA2)",
    )
    export.add_argument("--vqa-prompt", default=schema.VQA_PROMPT, help="user turn of a question; needs {question}")
    export.add_argument("--caption-prompt", default=schema.CAPTION_PROMPT)
    export.add_argument("--dataset-name", help="LLaMA-Factory dataset name (default: sarlang1m_<config>_<split>)")
    export.add_argument("--revision", help="Hub revision (default: the release this package pins)")
    export.set_defaults(run=_export)


def _add_prefetch(commands: _Commands, common: argparse.ArgumentParser) -> None:
    """`sarlang1m prefetch [CONFIG]`: the original GeoTIFFs, for offline decoding."""
    prefetch = commands.add_parser(
        "prefetch", help="download the original GeoTIFFs of a config for offline decoding", parents=[common]
    )
    prefetch.add_argument("config", nargs="?", default="vqa", help="config whose originals to fetch (default: vqa)")
    prefetch.add_argument("--release", help="ORG/NAME[@REV] on the Hub (default: the release this package pins)")
    prefetch.add_argument("--revision", help="Hub revision (default: the release this package pins)")
    prefetch.add_argument("--split", help="only this split (default: every split)")
    prefetch.add_argument(
        "--source", action="append", choices=sorted(schema.SOURCES), help="only this source dataset (repeatable)"
    )
    prefetch.add_argument("--local-dir", type=Path, help="a folder to fetch into (default: huggingface_hub's cache)")
    prefetch.add_argument("--workers", type=_positive_int, default=8, help="concurrent downloads (default: 8)")
    prefetch.set_defaults(run=_prefetch)


def main(argv: Sequence[str] | None = None) -> None:
    """Run a command; expected failures end in one line on stderr and their exit status (see `errors`).

    Only `SarlangError`s and operating-system errors on a named file (a path that does not exist, cannot be
    read or written, a full disk) are expected; anything else is a bug and keeps its traceback. `--debug`
    or SARLANG1M_DEBUG=1 shows the traceback of expected failures too.
    """
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], None] = args.run
    debug = args.debug or os.environ.get(DEBUG_ENVIRONMENT_VARIABLE, "") not in ("", "0")
    try:
        run(args)
    except BrokenPipeError:
        # The reader went away (`| head`): say nothing more, and keep Python from failing to flush at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(EXIT_BROKEN_PIPE) from None
    except KeyboardInterrupt:
        print(f"sarlang1m {args.command}: interrupted", file=sys.stderr)
        raise SystemExit(EXIT_INTERRUPTED) from None
    except (SarlangError, OSError) as error:
        expected = isinstance(error, SarlangError) or error.filename is not None
        if not expected:
            raise
        if debug:
            traceback.print_exc()
        status = error.exit_code if isinstance(error, SarlangError) else EXIT_INPUT
        print(f"sarlang1m {args.command}: error: {_message(error)}", file=sys.stderr)
        raise SystemExit(status) from None


def _message(error: BaseException) -> str:
    """The error as text; an OSError on a file as "PATH: reason" (its str() repeats errno and quotes)."""
    if isinstance(error, OSError) and not isinstance(error, SarlangError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    return str(error)


if __name__ == "__main__":
    main()
