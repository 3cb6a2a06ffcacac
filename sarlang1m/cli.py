"""`sarlang1m`: thin commands over the package's functions (each one is callable from Python too)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__, schema

#: Errors that are the user's input, not a bug: printed as one clear message, exit status 2.
_USER_ERRORS: tuple[type[BaseException], ...] = (FileExistsError, FileNotFoundError, ValueError, PermissionError)


def _synth(args: argparse.Namespace) -> None:
    from .synth import write_synthetic_release

    summary = write_synthetic_release(
        args.out, images=args.images, seed=args.seed, paper_scale=args.paper_scale, workers=args.workers
    )
    print(summary)


def _build(args: argparse.Namespace) -> None:
    from .release import build_release

    result = build_release(
        args.raw,
        args.out,
        sardet_root=args.sardet_root,
        num_proc=args.num_proc,
        max_shard_size=args.max_shard_size,
        overwrite=args.overwrite,
        allow_missing=args.allow_missing,
        text_format=args.text_format,
        version=args.version,
    )
    print(f"wrote {result.out}: {result.images} image rows, {result.texts} texts, {result.skipped} skipped")
    for name, config in result.configs.items():
        splits = ", ".join(f"{s}: {i['images']} images / {i['texts']} texts" for s, i in config["splits"].items())
        print(f"  {name:16s} {splits}")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if result.skipped:
        print(f"see {result.out / schema.REPORT_FILE} for the {result.skipped} skipped text(s) and why")


def _demo(args: argparse.Namespace) -> None:
    from .demo import run_demo

    run_demo(args.out, images=args.images, seed=args.seed)


def _verify(args: argparse.Namespace) -> None:
    from .manifest import verify_local

    if Path(args.target).exists():
        result = verify_local(args.target)
    else:
        from .hub import verify_hub

        result = verify_hub(args.target)
    print(result.summary())
    if not result.ok:
        raise SystemExit(1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sarlang1m", description=__doc__)
    parser.add_argument("--version", action="version", version=f"sarlang1m {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    synth = commands.add_parser("synth", help="write a SYNTHETIC raw release in the authors' layout")
    synth.add_argument("out", type=Path, help="folder to create (must not exist or be empty)")
    synth.add_argument("--images", type=int, default=120, help="number of images (default: 120)")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--paper-scale", action="store_true", help="the paper's 118,331 images and 1,126,277 texts")
    synth.add_argument("--workers", type=int, default=1, help="processes generating pixels")
    synth.set_defaults(run=_synth)

    build = commands.add_parser("build", help="raw release -> release folder (Parquet + card + MANIFEST)")
    build.add_argument("raw", type=Path, help="folder of the authors' raw release")
    build.add_argument("--out", type=Path, required=True, help="release folder to write")
    build.add_argument("--sardet-root", type=Path, help="SARDet-100K root (default: RAW/SARDet_100K if present)")
    build.add_argument("--num-proc", type=int, default=1, help="processes writing shards")
    build.add_argument("--max-shard-size", default="500MB", help="largest shard, e.g. 500MB (default)")
    build.add_argument("--overwrite", action="store_true", help="replace an existing release folder")
    build.add_argument(
        "--allow-missing", action="store_true", help="skip texts whose image is missing or unreadable (reported)"
    )
    build.add_argument("--text-format", choices=["json", "csv"], default="json", help="which twin to read")
    build.add_argument("--version", default=schema.RELEASE_VERSION, help="release version written in the card")
    build.set_defaults(run=_build)

    demo = commands.add_parser("demo", help="synth -> build -> load -> summary and contact sheet, on a small default")
    demo.add_argument("--out", type=Path, default=Path("demo-output"), help="folder for everything the demo writes")
    demo.add_argument("--images", type=int, default=120)
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(run=_demo)

    verify = commands.add_parser("verify", help="check a release folder or ORG/NAME@REV against its MANIFEST")
    verify.add_argument("target", help="a local release folder, or a Hub repo ORG/NAME@REVISION")
    verify.set_defaults(run=_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], None] = args.run
    try:
        run(args)
    except _USER_ERRORS as error:
        print(f"sarlang1m {args.command}: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print(f"sarlang1m {args.command}: interrupted", file=sys.stderr)
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
