"""Dataset Viewer page bytes of a release: its column-wise texts against the earlier row-wise layout.

For every config and split of a release folder (e.g. one built from `sarlang1m synth --real-sizes`),
the viewer model of `sarlang1m.card.viewer` gives the JSON bytes of the first-rows response for the
page it checks (`ViewerCheck.page_bytes`: the first 100 rows, or the page with the most non-image bytes),
and that page scaled to 100 rows of the same mean size (what a split with fewer rows than a page would
weigh in the full release). "before" is the same rows with their texts as a list of
records, one JSON object per text (the layout before release format 2), rewritten by this script from the
release's own shards, so both columns come from one run on the same rows. SYNTHETIC releases only make
sense here as stand-ins for the real one:

    python benchmarks/bench_viewer.py RELEASE [--json viewer.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq

from sarlang1m import schema
from sarlang1m.card import viewer

#: The texts columns as stored before release format 2: a list of records, one per text.
ROW_WISE = {
    "captions": datasets.List(schema.CAPTION_FIELDS),
    "vqa": datasets.List(schema.QA_FIELDS),
}


def row_wise_features(task: str) -> datasets.Features:
    features = dict(schema.FEATURES[task])
    features[schema.TEXT_COLUMN[task]] = ROW_WISE[task]
    return datasets.Features(features)


def rewrite_row_wise(release: Path, out: Path) -> None:
    """Copy the release's shards to `out` with each row's texts as a list of records, row groups kept."""
    manifest = json.loads((release / schema.MANIFEST_FILE).read_text(encoding="utf-8"))
    for path in sorted((release / schema.DATA_DIR).rglob("*.parquet")):
        task = path.relative_to(release / schema.DATA_DIR).parts[0]
        column = schema.TEXT_COLUMN[task]
        features = row_wise_features(task)
        target = out / path.relative_to(release)
        target.parent.mkdir(parents=True, exist_ok=True)
        parquet = pq.ParquetFile(path)
        with pq.ParquetWriter(target, features.arrow_schema, write_page_index=True) as writer:
            for group in range(parquet.metadata.num_row_groups):
                table = parquet.read_row_group(group)
                records = [
                    schema.text_records(task, texts, row=image_id)
                    for texts, image_id in zip(table[column].to_pylist(), table["image_id"].to_pylist(), strict=True)
                ]
                texts = pa.array(records, type=features.arrow_schema.field(column).type)
                table = table.set_column(table.schema.get_field_index(column), column, texts)
                writer.write_table(table.cast(features.arrow_schema), row_group_size=table.num_rows)
    (out / schema.MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")


def page_rows(check: viewer.ViewerCheck) -> int:
    """Rows in the page `check.page_bytes` counts (the first page, or the largest one)."""
    offset = 0 if check.first_page_bytes >= check.largest_page_bytes else check.largest_page_offset
    return min(viewer.PAGE_ROWS, check.rows - offset)


def full_page_estimate(check: viewer.ViewerCheck) -> int:
    """`page_bytes` scaled to a page of 100 rows of the same mean size (the page itself when it has 100)."""
    rows = page_rows(check)
    body = check.page_bytes - check.overhead_bytes - 2
    return check.overhead_bytes + 2 + round(body * viewer.PAGE_ROWS / rows) if rows else check.page_bytes


def measure(release: Path, configs: dict[str, schema.ConfigSummary], *, row_wise: bool) -> dict:
    results = {}
    for name, config in configs.items():
        for split, summary in config.splits.items():
            files = sorted(release.glob(summary.data_files))
            features = row_wise_features(config.task) if row_wise else schema.FEATURES[config.task]
            check = viewer.check_split(files, config=name, split=split, features=features)
            results[f"{name}/{split}"] = {
                "rows": check.rows,
                "page_rows": page_rows(check),
                "page_bytes": check.page_bytes,
                "full_page_estimate": full_page_estimate(check),
            }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("release", type=Path, help="a release folder built by this package")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    manifest = json.loads((args.release / schema.MANIFEST_FILE).read_text(encoding="utf-8"))
    configs = schema.configs_from_json(manifest["configs"])
    scratch = Path(tempfile.mkdtemp(prefix="sarlang1m-bench-viewer-"))
    try:
        rewrite_row_wise(args.release, scratch)
        before = measure(scratch, configs, row_wise=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    after = measure(args.release, configs, row_wise=False)
    limit = viewer.RESPONSE_MAX_BYTES
    print(f"first-rows JSON bytes (limit {limit:,}) of the page the viewer model checks, and scaled to 100 rows")
    print("| config / split | rows | page before | page after | change | 100 rows before | 100 rows after |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for key, new in after.items():
        old = before[key]
        change = new["page_bytes"] / old["page_bytes"] - 1
        print(
            f"| `{key.replace('/', '` / ')} | {new['rows']:,} | {old['page_bytes']:,} | {new['page_bytes']:,} |"
            f" {change:+.0%} | {old['full_page_estimate']:,} | {new['full_page_estimate']:,} |"
        )
    for label, figures in (("before", before), ("after", after)):
        pages = sorted(k for k, v in figures.items() if v["page_bytes"] >= limit)
        scaled = sorted(k for k, v in figures.items() if v["full_page_estimate"] >= limit)
        print(f"{label}: pages over the limit {pages or 'none'}; at 100 rows {scaled or 'none'}")
    if args.json:
        args.json.write_text(json.dumps({"before": before, "after": after}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
