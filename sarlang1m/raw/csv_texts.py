"""CSV text files: the delimiter and the header are detected, then every record becomes a text or a problem.

Nobody outside has published the authors' exact CSV headers, so a header is matched against the
aliases of `text_rows`, with a headerless fallback when the first cell is an image reference. Records
are read through `streams.BoundedLines`, so one malformed quote cannot pull the rest of the file into
a single field in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from .streams import BoundedLines, RecordTooLong
from .text_rows import (
    STYLE_KEYS,
    RawTextError,
    ReadResult,
    RowProblem,
    field_key,
    fields_for,
    looks_like_image_ref,
    short,
    text_or_problem,
)


def read_csv(path: Path | str, handle: TextIO, task: str) -> Iterator[ReadResult]:
    lines = BoundedLines(handle)
    delimiter = _sniff_delimiter(path, lines)
    handle.seek(0)
    lines = BoundedLines(handle)
    reader = csv.reader(lines, delimiter=delimiter)
    fields = fields_for(task)
    columns: dict[str, int] | None = None
    style_column: int | None = None
    needed, has_header = 0, False  # set from the first row
    while True:
        start = lines.number + 1
        lines.start_record()
        try:
            row = next(reader)
        except StopIteration:
            break
        except RecordTooLong as err:
            raise RawTextError(path, f"line {start}", f"a CSV record {err} (its line {err.line})") from err
        except csv.Error as err:  # a field over csv.field_size_limit(): where it ends cannot be told
            raise RawTextError(path, f"line {start}", f"malformed CSV: {err}") from err
        if not row or all(not cell.strip() for cell in row):
            continue  # a blank line is not a row
        if columns is None:  # the first row: a header, or the first record of a headerless file
            columns, style_column, has_header = _csv_columns(path, start, row, fields)
            needed = max(columns.values()) + 1
            if has_header:
                continue
        if len(row) < needed or (not has_header and len(row) > needed):
            detail = f"{len(row)} fields, expected {needed}: {short(row)}"
            yield RowProblem(start, None, "malformed_row", detail)
            continue
        values = {name: row[index].strip() for name, index in columns.items()}
        style = row[style_column].strip().lower() if style_column is not None and style_column < len(row) else None
        yield text_or_problem(start, 0, values, style)


def _sniff_delimiter(path: Path | str, lines: BoundedLines) -> str:
    """The delimiter of the first non-blank line: a comma if it has one, else a tab, semicolon or bar."""
    head = ""
    try:
        while not head.strip():
            lines.start_record()
            if not (head := next(lines, "")):
                break
    except RecordTooLong as err:
        raise RawTextError(path, f"line {err.line}", f"a CSV record {err}") from err
    if "," in head:
        return ","
    for delimiter in ("\t", ";", "|"):
        if delimiter in head:
            return delimiter
    return ","


def _csv_columns(
    path: Path | str, line: int, first: list[str], fields: dict[str, tuple[str, ...]]
) -> tuple[dict[str, int], int | None, bool]:
    """Column index of each field, the style column, and whether `first` (on `line`) is a header.

    A first cell naming an image makes a data row, even if another cell reads like a column name (an
    answer "A" is the alias "a"): no column name looks like an image file.
    """
    if first and looks_like_image_ref(first[0]):
        return {name: index for index, name in enumerate(fields)}, None, False
    keys = [field_key(cell) for cell in first]
    columns: dict[str, int] = {}
    for name, aliases in fields.items():
        for alias in aliases:
            if alias in keys and keys.index(alias) not in columns.values():
                columns[name] = keys.index(alias)
                break
    if columns:
        missing = [name for name in fields if name not in columns]
        if missing:
            raise RawTextError(
                path,
                f"line {line}",
                f"header {short(first)} has no column for {missing}; accepted names for "
                + "; ".join(f"{m}: {', '.join(fields[m])}" for m in missing),
            )
        style = next((keys.index(k) for k in STYLE_KEYS if k in keys), None)
        return columns, style, True
    raise RawTextError(
        path,
        f"line {line}",
        f"unknown header {short(first)}: expected columns named like "
        + "; ".join(f"{name}: {', '.join(aliases[:4])}..." for name, aliases in fields.items())
        + f", or no header with the columns in the order {list(fields)}",
    )
