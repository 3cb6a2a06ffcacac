"""`sarlang1m demo`: the whole maintainer and user path on a small SYNTHETIC release, in about a minute.

synth (a synthetic raw release in the authors' layout) -> build (Parquet, card, MANIFEST) -> load with
plain `datasets` -> a summary (configs, splits, images, texts per application and tier) -> SAR decoding
of one original GeoTIFF -> a contact sheet of images with their texts. The release is built for the Hub
repo `repo_id` (a placeholder by default), so that the `push --dry-run` it suggests next is accepted.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import datasets

from . import schema
from .build.release import build_release
from .output_folders import Replaceable, check_output_folder
from .publish.push_checks import hub_repo_id
from .synth import write_synthetic_release

#: A folder holding this file was written by the demo and may be replaced by the next run.
DEMO_MARKER = ".sarlang1m-demo"
#: What the demo may replace without asking: its own earlier output, which holds `DEMO_MARKER`.
DEMO_OUTPUT = Replaceable("a folder the demo wrote", lambda folder: (folder / DEMO_MARKER).is_file(), option=None)
#: The repo the demo's release is built for unless told: a placeholder for the user's own repo.
DEMO_REPO_ID = "your-name/sarlang-1m-demo"


def run_demo(
    out: str | Path = "demo-output",
    *,
    images: int = 120,
    seed: int = 0,
    repo_id: str | None = None,
    progress: bool = True,
) -> dict:
    """Run every step into `out` and print what each produced; returns the summary.

    The release is built for `repo_id` (default: `DEMO_REPO_ID`, a placeholder), the repo its card names.
    """
    out, repo_id = Path(out), hub_repo_id(repo_id or DEMO_REPO_ID)
    _prepare(out)
    raw, release = out / "raw-synthetic", out / schema.DATASET_NAME
    print(f"1/5 synth: a SYNTHETIC raw release ({images} images, seed {seed}) in {raw}")
    write_synthetic_release(raw, images=images, seed=seed, progress=progress)
    print(f"2/5 build: {release} (for the Hub repo {repo_id})")
    result = build_release(raw, release, repo_id=repo_id, progress=progress)
    print(
        f"    {result.images} images in {result.rows} rows (one per image and task), {result.texts} texts, "
        f"{result.skipped} texts skipped (see build_report.json)"
    )
    print(f'3/5 load with plain datasets: load_dataset("{release}", config)')
    summary = summarize(release)
    print(format_summary(summary))
    print("4/5 decode SAR: sarlang1m.load(..., decode='sar')")
    print("    " + _decode_example(release))
    sheet = out / "contact_sheet.png"
    _contact_sheet(release, sheet)
    print(f"5/5 contact sheet of images with their texts: {sheet}")
    print(f"next: sarlang1m verify {release}")
    print(f"      sarlang1m push {release} --repo {repo_id} --version {schema.RELEASE_VERSION} --dry-run")
    if repo_id == DEMO_REPO_ID:
        print("      (to push to a repo of yours, run the demo again with --repo ORG/NAME)")
    return summary


def summarize(release: Path) -> dict:
    """Configs, splits, and images and texts per split, application, tier and source, read with datasets."""
    summary: dict = {"configs": datasets.get_dataset_config_names(str(release)), "splits": {}}
    applications: Counter = Counter()
    tiers: Counter = Counter()
    sources: Counter = Counter()
    for config in ("vqa", "captions"):
        column = schema.TEXT_COLUMN[config]
        loaded = datasets.load_dataset(str(release), config, columns=["tier", "source", column])
        for split, rows in loaded.items():
            texts = 0
            for row in rows:
                records = schema.text_records(config, row[column])
                labels = [t.get("application", "image_description") for t in records]
                applications.update(labels)
                tiers[row["tier"]] += len(labels)
                sources[row["source"]] += len(labels)
                texts += len(labels)
            summary["splits"][f"{config}/{split}"] = {"images": rows.num_rows, "texts": texts}
    summary["applications"] = dict(applications.most_common())
    summary["tiers"] = dict(tiers.most_common())
    summary["sources"] = dict(sources.most_common())
    return summary


def format_summary(summary: dict) -> str:
    lines = [f"    configs: {', '.join(summary['configs'])}"]
    lines += [f"    {name:15s} {v['images']:6d} images {v['texts']:7d} texts" for name, v in summary["splits"].items()]
    for key in ("applications", "tiers", "sources"):
        lines.append(
            f"    texts per {key[:-1]}: " + ", ".join(f"{name} {count}" for name, count in summary[key].items())
        )
    return "\n".join(lines)


def _decode_example(release: Path) -> str:
    from .load import load

    rows = load("vqa", split="train", source=release, decode="sar", streaming=True)
    for row in rows:
        if row["pixels_source"] == "sar":
            pixels = row["pixels"]
            return (
                f"{row['image_id']} ({row['source']}): {row['pixels_radiometry']} -> float32 {tuple(pixels.shape)} "
                f"in [{pixels.min():.2f}, {pixels.max():.2f}]"
            )
    return "no original GeoTIFF in this release"


def _contact_sheet(release: Path, path: Path) -> None:
    """One captioned image and one other image with its questions per source."""
    from .card.preview import SYNTHETIC_WATERMARK, contact_sheet, distinct_sample_rows, release_is_synthetic

    rows = distinct_sample_rows(release, ("captions", "vqa"))
    watermark = SYNTHETIC_WATERMARK if release_is_synthetic(release) else None
    contact_sheet(rows, columns=4, watermark=watermark).save(path)


def _prepare(out: Path) -> None:
    """Create `out`, or empty it when an earlier demo wrote it; refuse any other non-empty folder."""
    if check_output_folder(out, replaceable=DEMO_OUTPUT):
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / DEMO_MARKER).write_text("written by `sarlang1m demo`: synthetic data, safe to delete\n")
