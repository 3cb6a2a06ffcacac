"""What each command runs: one of the package's functions, called with the parsed arguments, its result printed.

Each function imports what it needs when it runs, so that parsing (and ``--help``) imports none of it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def synth(args: argparse.Namespace) -> None:
    from ..sizes import human_bytes
    from ..synth import write_synthetic_release

    summary = write_synthetic_release(
        args.out,
        images=args.images,
        seed=args.seed,
        paper_scale=args.paper_scale,
        image_size=args.image_size,
        real_sizes=args.real_sizes,
        upload=args.upload,
        sardet_archive=args.sardet_archive,
        workers=args.workers,
        progress=not args.quiet,
    )
    images = summary.total_images + summary.unused_images
    print(
        f"wrote a SYNTHETIC raw release to {summary.root}: {images} images ({summary.total_images} used by "
        f"texts, {summary.unused_images} unused), {summary.total_texts} texts, {summary.files} files, "
        f"{human_bytes(summary.bytes)} in {summary.seconds:.1f} s (seed {summary.seed})"
    )


def build(args: argparse.Namespace) -> None:
    from ..build.release import build_release

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
        progress=not args.quiet,
    )
    from .. import schema

    print(
        f"wrote {args.out}: {result.images} images in {result.rows} rows (one per image and task), "
        f"{result.texts} texts, {result.skipped} texts skipped"
    )
    for name, config in result.configs.items():
        splits = ", ".join(f"{s}: {i.images} images / {i.texts} texts" for s, i in config.splits.items())
        print(f"  {name:16s} {splits}")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if result.skipped:
        print(f"see {args.out / schema.REPORT_FILE} for the {result.skipped} skipped text(s) and why")


def demo(args: argparse.Namespace) -> None:
    from ..demo import run_demo

    run_demo(args.out, images=args.images, seed=args.seed, repo_id=args.repo)


def verify(args: argparse.Namespace) -> None:
    from ..publish.hub import verify

    result = verify(args.target, download=args.download)
    print(result.summary())
    if not result.ok:
        raise SystemExit(1)


def push(args: argparse.Namespace) -> None:
    from ..publish.hub import push_release

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
    print(f"published {result.plan.repo_id}@{result.plan.tag} at commit {result.commit}")
    if result.plan.branch != "main":
        print(
            f"{result.plan.tag} is older than the newest version: it was committed to branch "
            f"{result.plan.branch}, main was not moved"
        )
    print(f"recorded {result.plan.tag} -> {result.commit} in {result.releases_file}")
    print(f"Load it with:\n  from datasets import load_dataset; ds = {result.load_line}")


def evaluate(args: argparse.Namespace) -> None:
    import json

    from ..evaluate import CaptionResult, VQAResult, evaluate_captions, evaluate_vqa

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


def export(args: argparse.Namespace) -> None:
    from ..export import export

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


def prefetch(args: argparse.Namespace) -> None:
    from ..prefetch import prefetch
    from ..sizes import human_bytes

    result = prefetch(
        args.config,
        split=args.split,
        source=args.release,
        revision=args.revision,
        sources=args.source,
        local_dir=args.local_dir,
        workers=args.workers,
    )
    print(f"{result.files} originals ({human_bytes(result.bytes)}) are in {result.root}")
    if result.shards:
        print(f"{result.shards} Parquet shards of {args.config} are in the datasets cache: it loads offline")
