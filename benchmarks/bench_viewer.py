"""Dataset Viewer page bytes of a release, against the layouts of earlier release formats.

For every config and split of a release folder (e.g. one built from `sarlang1m synth --real-sizes`),
the viewer model of `sarlang1m.card.viewer` gives the JSON bytes of the first-rows response for the
page it checks (`ViewerCheck.page_bytes`: the first 100 rows, or the page with the most non-image bytes),
and that page scaled to 100 rows of the same mean size (what a split with fewer rows than a page would
weigh in the full release). The same rows are rewritten by this script from the release's own shards in
the layouts of earlier formats, so every column comes from one run on the same rows:

- format 1: texts as a list of records, one JSON object per text, ids global (``<image_id>-<id>``);
- format 2: texts column-wise (one list per field), ids global;
- format 3: texts column-wise, ids local to their image (`schema.text_id`);
- format 4 (the release as built): as 3, without the derived ``qa.answer_type`` (`raw.classify.answer_type`
  of the answer, which formats 1-3 stored) and the image ``sha256`` (which they stored per row).

For splits still over the first-rows limit (the page, or the page scaled to 100 rows), the JSON bytes
per row of each column and text field say what takes them. SYNTHETIC releases only make sense here as
stand-ins for the real one:

    python benchmarks/bench_viewer.py RELEASE [--json viewer.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq

from sarlang1m import schema
from sarlang1m.card import viewer
from sarlang1m.raw.classify import question_answer_type
from sarlang1m.summary import ConfigSummary, configs_from_json

#: The fields of a question in release formats 1-3, which stored its answer type (after ``subtype``).
QA_FIELDS_STORED = {
    **{k: v for k, v in schema.QA_FIELDS.items() if k != "bbox"},
    "answer_type": datasets.Value("string"),
    "bbox": schema.QA_FIELDS["bbox"],
}
#: The texts columns as stored in release format 1: a list of records, one per text.
ROW_WISE = {
    "captions": datasets.List(schema.CAPTION_FIELDS),
    "vqa": datasets.List(QA_FIELDS_STORED),
}
FORMATS = (1, 2, 3, 4)


def format_features(task: str, release_format: int) -> datasets.Features:
    """The features of a task's rows in `release_format`: formats 1-3 add the image ``sha256`` (after
    ``height``) and ``qa.answer_type``; format 1 stores the texts as records."""
    features = dict(schema.FEATURES[task])
    if release_format < 4:
        features = {}
        for name, feature in schema.FEATURES[task].items():
            features[name] = feature
            if name == "height":
                features["sha256"] = datasets.Value("string")
        if task == "vqa":
            features["qa"] = {k: datasets.List(v) for k, v in QA_FIELDS_STORED.items()}
    if release_format == 1:
        features[schema.TEXT_COLUMN[task]] = ROW_WISE[task]
    return datasets.Features(features)


def _with_answer_types(records: list[dict]) -> list[dict]:
    """Question records with the answer type formats 1-3 stored, in its place before ``bbox``."""
    return [
        {
            **{k: v for k, v in r.items() if k != "bbox"},
            "answer_type": question_answer_type(r),
            "bbox": r["bbox"],
        }
        for r in records
    ]


def rewrite(release: Path, out: Path, release_format: int) -> None:
    """Copy the release's shards to `out` with each row as `release_format` stored it (formats 1-2: global
    ids; format 1: texts as a list of records), row groups kept."""
    manifest = json.loads((release / schema.MANIFEST_FILE).read_text(encoding="utf-8"))
    for path in sorted((release / schema.DATA_DIR).rglob("*.parquet")):
        task = path.relative_to(release / schema.DATA_DIR).parts[0]
        column = schema.TEXT_COLUMN[task]
        features = format_features(task, release_format)
        target = out / path.relative_to(release)
        target.parent.mkdir(parents=True, exist_ok=True)
        parquet = pq.ParquetFile(path)
        with pq.ParquetWriter(target, features.arrow_schema, write_page_index=True) as writer:
            for group in range(parquet.metadata.num_row_groups):
                table = parquet.read_row_group(group)
                texts = [
                    schema.text_records(task, value, image_id=image_id if release_format < 3 else None)
                    for value, image_id in zip(table[column].to_pylist(), table["image_id"].to_pylist(), strict=True)
                ]
                if task == "vqa":
                    texts = [_with_answer_types(records) for records in texts]
                if release_format > 1:  # column-wise
                    texts = [{k: [r[k] for r in records] for k in features[column]} for records in texts]
                array = pa.array(texts, type=features.arrow_schema.field(column).type)
                table = table.set_column(table.schema.get_field_index(column), column, array)
                digests = [hashlib.sha256(image["bytes"]).hexdigest() for image in table["image"].to_pylist()]
                table = table.append_column("sha256", pa.array(digests, pa.string())).select(list(features))
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


def measure(release: Path, configs: dict[str, ConfigSummary], *, release_format: int) -> dict:
    results = {}
    for name, config in configs.items():
        for split, summary in config.splits.items():
            files = sorted(release.glob(summary.data_files))
            features = format_features(config.task, release_format)
            check = viewer.check_split(files, config=name, split=split, features=features)
            results[f"{name}/{split}"] = {
                "rows": check.rows,
                "page_rows": page_rows(check),
                "page_offset": 0 if check.first_page_bytes >= check.largest_page_bytes else check.largest_page_offset,
                "page_bytes": check.page_bytes,
                "full_page_estimate": full_page_estimate(check),
            }
    return results


def _json_bytes(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def field_bytes(files: list[Path], task: str, offset: int) -> dict[str, float]:
    """Mean JSON bytes per row of each non-image column, and of each field of the texts, on the page at
    `offset` (a column's bytes count its value and its key)."""
    images = {name for name, feature in schema.FEATURES[task].items() if isinstance(feature, datasets.Image)}
    table = pa.concat_tables(
        pq.read_table(f, columns=[c for c in schema.FEATURES[task] if c not in images]) for f in files
    )
    rows = table.slice(offset, viewer.PAGE_ROWS).to_pylist()
    column = schema.TEXT_COLUMN[task]
    total: Counter = Counter()
    for row in rows:
        for name, value in row.items():
            if name == column:
                for field, values in (value or {}).items():
                    total[f"{column}.{field}"] += _json_bytes({field: values}) - 2
            else:
                total[name] += _json_bytes({name: value}) - 2
    return {name: count / len(rows) for name, count in total.most_common()} if rows else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("release", type=Path, help="a release folder built by this package")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    manifest = json.loads((args.release / schema.MANIFEST_FILE).read_text(encoding="utf-8"))
    configs = configs_from_json(manifest["configs"])
    figures: dict[int, dict] = {}
    for release_format in FORMATS[:-1]:
        scratch = Path(tempfile.mkdtemp(prefix=f"sarlang1m-bench-viewer-{release_format}-"))
        try:
            rewrite(args.release, scratch, release_format)
            figures[release_format] = measure(scratch, configs, release_format=release_format)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    figures[FORMATS[-1]] = measure(args.release, configs, release_format=FORMATS[-1])
    limit = viewer.RESPONSE_MAX_BYTES
    now = figures[FORMATS[-1]]
    print(f"first-rows JSON bytes (limit {limit:,}) of the page the viewer model checks, and scaled to 100 rows")
    print(
        "| config / split | rows | page, format 1 | page, format 2 | page, format 3 | page, format 4 | 4 vs 3 |"
        " 100 rows, format 1 | 100 rows, format 2 | 100 rows, format 3 | 100 rows, format 4 |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key, new in now.items():
        pages = [figures[f][key]["page_bytes"] for f in FORMATS]
        scaled = [figures[f][key]["full_page_estimate"] for f in FORMATS]
        print(
            f"| `{key.replace('/', '` / `')}` | {new['rows']:,} | "
            + " | ".join(f"{b:,}" for b in pages)
            + f" | {pages[-1] / pages[-2] - 1:+.1%} | "
            + " | ".join(f"{b:,}" for b in scaled)
            + " |"
        )
    for release_format in FORMATS:
        results = figures[release_format]
        over = sorted(k for k, v in results.items() if v["page_bytes"] >= limit)
        scaled_over = sorted(k for k, v in results.items() if v["full_page_estimate"] >= limit)
        print(f"format {release_format}: pages over the limit {over or 'none'}; at 100 rows {scaled_over or 'none'}")
    breakdown = {}
    for key, result in now.items():
        if max(result["page_bytes"], result["full_page_estimate"]) < limit:
            continue
        name, split = key.split("/")
        files = sorted(args.release.glob(configs[name].splits[split].data_files))
        breakdown[key] = fields = field_bytes(files, configs[name].task, result["page_offset"])
        shown = ", ".join(f"{field} {size:,.0f}" for field, size in fields.items() if size >= 10)
        print(
            f"{key} (rows {result['page_offset']}-{result['page_offset'] + result['page_rows'] - 1}),"
            f" JSON bytes per row: {shown}"
        )
    if args.json:
        report = {f"format {f}": figures[f] for f in FORMATS} | {"bytes_per_row_over_the_limit": breakdown}
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
