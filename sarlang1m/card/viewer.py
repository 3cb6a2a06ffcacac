"""The Hugging Face Dataset Viewer's production limits, and whether each config and split stays within them.

Every limit below is read from the viewer's open-source service (`VIEWER_REPOSITORY`, at
`VIEWER_COMMIT`) and names the file and setting it comes from. How the viewer serves a split:

- `config-parquet-metadata` stores each Parquet file's footer, with its offset index when the file has
  one (libviewer `read_metadata`: `with_offset_index_policy(PageIndexPolicy::Optional)`); a dataset that
  is already Parquet on the Hub is copied as it is, however big its row groups
  (services/worker/.../config/parquet_and_info.py `copy_parquet_files`).
- A page of rows (first-rows and /rows) is read by libviewer (libs/libviewer/src/dataset.rs `scan`,
  src/parquet.rs `read_batch_stream`) with every column (`ProjectionMask::all()`), one row group at a
  time. Each row group's byte ranges go through `LimitedAsyncReader`, which refuses any read of more than
  `SCAN_MAX_BYTES` ("Scan size limit exceeded"; libcommon turns it into `TooBigRows`). With an offset
  index only the pages holding the requested rows are fetched; without one, whole column chunks.
- The first-rows response (rows 0-99, the preview) is capped at `RESPONSE_MAX_BYTES` of JSON
  (libcommon/viewer_utils/rows.py `create_first_rows_response`): `Image` cells become asset URLs
  (`{"src", "height", "width"}`, viewer_utils/features.py `image`), binary cells become base64 strings
  (libcommon/utils.py `orjson_default`; `truncate_binary_columns` is disabled in parquet_utils.py), and
  when the rows do not fit, rows past the first `FIRST_ROWS_MIN_ROWS` are dropped and the cells of the
  rest cut to `MIN_CELL_BYTES` (viewer_utils/truncate_rows.py).

What is checked here, from the Parquet footers (as the viewer plans its reads) plus the non-image
columns of two pages (as the viewer serialises them):

1. the response bytes of a page of `PAGE_ROWS` rows, image cells counted as their URLs, stay under
   `RESPONSE_MAX_BYTES`: the first page (what first-rows serves) and the page with the most non-image
   bytes by the footers (every page could be the preview of a later revision);
2. the largest read of one row group (all its column chunks, compressed, as fetched from the file) stays
   within `SCAN_MAX_BYTES` (an upper bound: with an offset index the viewer fetches only some pages);
3. a config with an `Image` column has at most `IMAGE_ROW_GROUP_ROWS` rows per row group and a page
   index in every column chunk (what the viewer writes itself when it converts an image dataset, and
   what its `TooBigRows` message asks for).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .. import schema
from ..errors import InputError, ReleaseError
from ..summary import ConfigSummary

VIEWER_REPOSITORY = "https://github.com/huggingface/dataset-viewer"
#: The commit of `VIEWER_REPOSITORY` these limits were read from (2026-08-20).
VIEWER_COMMIT = "f62009e0555b1274e7f6ddc7058dc796993f28b6"

#: Rows per page: libs/libcommon/src/libcommon/constants.py `MAX_NUM_ROWS_PER_PAGE`
#: (first-rows asks for this many; /rows accepts at most this `length`).
PAGE_ROWS = 100
#: Bytes of the first-rows JSON response: chart/env/prod.yaml `firstRows.maxBytes` ("200_000"; the chart's
#: default in chart/values.yaml is 1_000_000), passed as `rows_max_bytes` by
#: services/worker/src/worker/job_runners/split/first_rows.py.
RESPONSE_MAX_BYTES = 200_000
#: Bytes one row-group read may fetch: chart/env/prod.yaml `rowsIndex.maxArrowDataInMemory`
#: ("300_000_000"; libs/libcommon/src/libcommon/config.py `ROWS_INDEX_MAX_ARROW_DATA_IN_MEMORY`), passed
#: as `max_scan_size` to `RowsIndex` (libcommon/parquet_utils.py) and as `scan_size_limit` to
#: libs/libviewer/src/parquet.rs `LimitedAsyncReader`, which refuses reads over it.
SCAN_MAX_BYTES = 300_000_000
#: Rows per row group of image datasets the viewer converts itself: libs/libcommon/src/libcommon/constants.py
#: `PROCESSING_STEP_CONFIG_PARQUET_AND_INFO_ROW_GROUP_SIZE_FOR_IMAGE_DATASETS` (written with
#: `write_page_index=True`: services/worker/.../config/parquet_and_info.py `_PatchedParquetWriter`).
IMAGE_ROW_GROUP_ROWS = 100
#: Rows first-rows keeps before it starts cutting cells: chart/values.yaml `firstRows.minNumber`
#: (not overridden in chart/env/prod.yaml).
FIRST_ROWS_MIN_ROWS = 10
#: Bytes a cut cell keeps: chart/values.yaml `firstRows.minCellBytes`.
MIN_CELL_BYTES = 100
#: Where image cells are served from: chart/templates/_common/_helpers.tpl `assets.baseUrl` on the production
#: host (chart/env/prod.yaml `ingress.tls.hosts`); the path is libcommon/storage_client.py
#: `generate_object_path`, with the revision placeholder `DATASET_GIT_REVISION_PLACEHOLDER` of
#: libcommon/viewer_utils/asset.py in the cached response.
ASSETS_BASE_URL = "https://datasets-server.huggingface.co/assets"
REVISION_PLACEHOLDER = "{dataset_git_revision}"
#: Digits counted for an image's height and width in its cell (images up to 99,999 px a side).
_IMAGE_SIDE_DIGITS = 5


@dataclass(frozen=True)
class ViewerCheck:
    """One config's split against the viewer's limits (see the module docstring)."""

    config: str
    split: str
    rows: int
    image_columns: tuple[str, ...]
    row_groups: int
    #: Rows of the largest row group.
    max_group_rows: int
    #: Compressed bytes of the largest row group, all columns: the most one read can fetch.
    largest_read: int
    #: Every column chunk of every row group has an offset index (the part of the page index libviewer reads).
    page_index: bool
    #: JSON bytes of the first-rows response of rows 0-99.
    first_page_bytes: int
    #: JSON bytes of the same response for the page with the most non-image bytes, and its first row.
    largest_page_bytes: int
    largest_page_offset: int
    #: JSON bytes of the response without rows (features, names) and of the largest row item read.
    overhead_bytes: int
    largest_row_bytes: int

    @property
    def page_bytes(self) -> int:
        return max(self.first_page_bytes, self.largest_page_bytes)

    @property
    def full_page_bytes(self) -> int:
        """A page of `PAGE_ROWS` rows as large as the largest row read: what a small (test) release's rows would
        weigh at full size, since its pages hold fewer rows."""
        return self.overhead_bytes + 2 + PAGE_ROWS * (self.largest_row_bytes + 1)

    @property
    def response_fits(self) -> bool:
        # rows.py / truncate_rows.py keep a row only while the total stays strictly under the cap
        return self.page_bytes < RESPONSE_MAX_BYTES

    @property
    def reads_fit(self) -> bool:
        return self.largest_read <= SCAN_MAX_BYTES

    @property
    def layout_fits(self) -> bool:
        return not self.image_columns or (self.max_group_rows <= IMAGE_ROW_GROUP_ROWS and self.page_index)

    @property
    def fits(self) -> bool:
        return self.response_fits and self.reads_fit and self.layout_fits

    def problems(self) -> list[str]:
        """What keeps this split from the viewer, one sentence each (empty when it fits)."""
        found = []
        if not self.response_fits:
            first = self.first_page_bytes >= self.largest_page_bytes
            offset = 0 if first else self.largest_page_offset
            found.append(
                f"rows {offset:,}-{offset + PAGE_ROWS - 1:,} are {self.page_bytes:,} bytes of JSON, over the"
                f" {RESPONSE_MAX_BYTES:,}-byte first-rows limit (the preview shows only the rows that fit, at least"
                f" {FIRST_ROWS_MIN_ROWS} with their cells cut to {MIN_CELL_BYTES} bytes)"
            )
        if not self.reads_fit:
            found.append(
                f"a row group is {self.largest_read:,} bytes to read, over the {SCAN_MAX_BYTES:,}-byte scan limit:"
                " its pages fail with 'Scan size limit exceeded'"
            )
        if self.image_columns and self.max_group_rows > IMAGE_ROW_GROUP_ROWS:
            found.append(
                f"row groups of up to {self.max_group_rows:,} rows (image configs: at most {IMAGE_ROW_GROUP_ROWS})"
            )
        if self.image_columns and not self.page_index:
            found.append("no page index (write the Parquet files with write_page_index=True)")
        return found


def viewer_checks(
    release: str | Path, configs: Mapping[str, ConfigSummary], *, repo_id: str = schema.DEFAULT_REPO_ID
) -> list[ViewerCheck]:
    """`check_split` for every config and split of `configs` (the build's summary: `splits` -> `data_files`)."""
    release = Path(release)
    checks = []
    for config, summary in configs.items():
        for split, info in summary.splits.items():
            files = sorted(release.glob(info.data_files))
            if not files:
                raise ReleaseError(
                    f"{release}: config {config!r} split {split!r} lists {info.data_files!r}, which matches no"
                    " file; rebuild the release or fix its README.md `configs:`"
                )
            checks.append(check_split(files, config=config, split=split, repo_id=repo_id))
    return checks


@dataclass(frozen=True)
class _Group:
    file: Path
    index: int
    first_row: int  # in the split, files in sorted order
    rows: int
    non_image_bytes: int  # uncompressed, from the footer


def check_split(
    files: Iterable[str | Path],
    *,
    config: str,
    split: str,
    repo_id: str = schema.DEFAULT_REPO_ID,
    features: datasets.Features | None = None,
) -> ViewerCheck:
    """The viewer's view of one split made of `files` (in the order given), from their footers and two pages.

    `features` defaults to those recorded in the first file's schema (the `huggingface` metadata that
    `datasets` writes); the viewer takes them from the dataset card, which a release writes from the same
    `schema.FEATURES`.
    """
    paths = [Path(f) for f in files]
    if not paths:
        raise InputError(f"config {config!r} split {split!r}: no Parquet files to check; pass its data files")
    if features is None:
        features = datasets.Features.from_arrow_schema(pq.read_schema(paths[0]))
    images = tuple(name for name, feature in features.items() if isinstance(feature, datasets.Image))
    groups: list[_Group] = []
    largest_read = max_group_rows = 0
    page_index = True
    rows = 0
    for path in paths:
        metadata = pq.ParquetFile(path).metadata
        for index in range(metadata.num_row_groups):
            group = metadata.row_group(index)
            chunks = [group.column(c) for c in range(group.num_columns)]
            largest_read = max(largest_read, sum(chunk.total_compressed_size for chunk in chunks))
            max_group_rows = max(max_group_rows, group.num_rows)
            page_index = page_index and all(chunk.has_offset_index for chunk in chunks)
            non_image = sum(
                chunk.total_uncompressed_size for chunk in chunks if chunk.path_in_schema.split(".")[0] not in images
            )
            groups.append(_Group(path, index, rows, group.num_rows, non_image))
            rows += group.num_rows
    largest_offset = _largest_page_offset(groups, rows)
    response = _PageResponse(features, images, repo_id=repo_id, config=config, split=split)
    first, first_row = response.bytes(_read_page(groups, 0, images))
    largest, largest_row = (
        (first, first_row) if largest_offset == 0 else response.bytes(_read_page(groups, largest_offset, images))
    )
    return ViewerCheck(
        config=config,
        split=split,
        rows=rows,
        image_columns=images,
        row_groups=len(groups),
        max_group_rows=max_group_rows,
        largest_read=largest_read,
        page_index=page_index and bool(groups),
        first_page_bytes=first,
        largest_page_bytes=largest,
        largest_page_offset=largest_offset,
        overhead_bytes=response.surrounding,
        largest_row_bytes=max(first_row, largest_row),
    )


def _largest_page_offset(groups: list[_Group], rows: int) -> int:
    """First row of the page whose rows hold the most non-image bytes, by the footers (rows share their group's
    bytes evenly)."""
    if not rows:
        return 0
    filled = [g for g in groups if g.rows]
    ends = np.cumsum([0] + [g.rows for g in filled])
    cumulative = np.cumsum([0] + [g.non_image_bytes for g in filled])
    boundaries = np.append(np.arange(0, rows, PAGE_ROWS), rows)
    page_bytes = np.diff(np.interp(boundaries, ends, cumulative))  # linear within a group: an even share per row
    return int(np.argmax(page_bytes)) * PAGE_ROWS


def _read_page(groups: list[_Group], offset: int, images: tuple[str, ...]) -> Iterable[tuple[int, pa.Table]]:
    """The rows [offset, offset + PAGE_ROWS) without the image columns, one row group at a time (memory stays
    at one row group however big the page's binary cells are), each with the split index of its first row."""
    end = offset + PAGE_ROWS
    for group in groups:
        if group.first_row >= end or group.first_row + group.rows <= offset:
            continue
        parquet = pq.ParquetFile(group.file)
        columns = [name for name in parquet.schema_arrow.names if name not in images]
        table = parquet.read_row_group(group.index, columns=columns)
        start = max(offset, group.first_row)
        stop = min(end, group.first_row + group.rows)
        yield start, table.slice(start - group.first_row, stop - start)


class _PageResponse:
    """The bytes of a first-rows response, serialised the way the viewer does (compact JSON, UTF-8)."""

    def __init__(
        self, features: datasets.Features, images: tuple[str, ...], *, repo_id: str, config: str, split: str
    ) -> None:
        self.features = features
        self.images = images
        self.prefix = "/".join(
            [ASSETS_BASE_URL, quote(repo_id), "--", REVISION_PLACEHOLDER, "--", quote(config), quote(split)]
        )
        feature_types = features.to_dict()
        self.surrounding = _json_size(
            {
                "dataset": repo_id,
                "config": config,
                "split": split,
                "features": [
                    {"feature_idx": i, "name": name, "type": feature_types[name]} for i, name in enumerate(features)
                ],
                "rows": [],
                "truncated": False,
            }
        )

    def bytes(self, parts: Iterable[tuple[int, pa.Table]]) -> tuple[int, int]:
        """(bytes of the response with these rows, bytes of its largest row item)."""
        rows_bytes = 2  # the brackets of "rows"; each row item adds its size and a comma (truncate_rows.py)
        largest_row = 0
        for first_row, table in parts:
            for position, row in enumerate(table.to_pylist()):
                row_idx = first_row + position
                # image columns are not read: each cell counts as its URL (a null image would be shorter)
                cells = {
                    name: self._image_cell(row_idx, name)
                    if name in self.images
                    else self._cell(row_idx, name, row.get(name), feature)
                    for name, feature in self.features.items()
                }
                row_bytes = _json_size({"row_idx": row_idx, "row": cells, "truncated_cells": []})
                rows_bytes += row_bytes + 1
                largest_row = max(largest_row, row_bytes)
        # the viewer's own count (rows.py: `rows_max_bytes - surrounding_json_size`), a few bytes over the body
        return self.surrounding + rows_bytes, largest_row

    def _image_cell(self, row_idx: int, column: str) -> dict[str, Any]:
        side = int("9" * _IMAGE_SIDE_DIGITS)
        src = f"{self.prefix}/{row_idx}/{quote(column)}/image.jpg"
        return {"src": src, "height": side, "width": side}

    def _cell(self, row_idx: int, column: str, value: Any, feature: Any) -> Any:
        """viewer_utils/features.py `get_cell_value`, for the feature types a release holds."""
        if value is None:
            return None
        if isinstance(feature, datasets.Image):
            return self._image_cell(row_idx, column)
        if isinstance(feature, dict):
            return {key: self._cell(row_idx, column, value.get(key), feature[key]) for key in value}
        if isinstance(feature, (datasets.List, datasets.LargeList, list)):
            inner = feature[0] if isinstance(feature, list) else feature.feature
            return [self._cell(row_idx, column, item, inner) for item in value]
        return value


def _json_default(value: Any) -> Any:
    """libcommon/utils.py `orjson_default`: bytes as base64 text, anything else as its str()."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def _json_size(value: Any) -> int:
    """libcommon/utils.py `get_json_size`: bytes of the compact UTF-8 JSON."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_json_default).encode("utf-8"))
