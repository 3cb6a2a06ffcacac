"""Read the authors' text files: CSV (header or not) and LLaMA-Factory JSON / JSONL.

This module recognises a text file by its name and hands it to the reader of its format: `csv_texts`
for CSV, `json_texts` for a JSON list, a JSON object holding one list, or JSON Lines (also when saved
as .json). What a row becomes (`RawText` or a `RowProblem` that names it) is defined once, in
`text_rows`; how a file is read in bounded pieces, in `streams`. Every row yields one or the other:
nothing is dropped silently.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from . import streams
from .csv_texts import read_csv
from .json_texts import holds_one_list, read_json_array, read_json_document, read_jsonl, strip_prompt
from .streams import first_character
from .text_rows import RawText, RawTextError, ReadResult, RowProblem

__all__ = [
    "TEXT_SUFFIXES",
    "RawText",
    "RawTextError",
    "ReadResult",
    "RowProblem",
    "TextFileSpec",
    "read_text_file",
    "read_text_stream",
    "recognise_text_file",
    "strip_prompt",
]


@dataclass(frozen=True)
class TextFileSpec:
    """What a text file's name says: task, split, VQA subset, caption style (None: mixed)."""

    task: str
    split: str
    subset: str | None = None
    style: str | None = None


_FILE_NAMES = (
    (re.compile(r"^caption[-_ ]?train(?:ing)?$", re.I), lambda m: TextFileSpec("captions", "train")),
    (re.compile(r"^caption[-_ ]?test1$", re.I), lambda m: TextFileSpec("captions", "test", style="concise")),
    (re.compile(r"^caption[-_ ]?test$", re.I), lambda m: TextFileSpec("captions", "test", style="detailed")),
    (
        re.compile(r"^sarvqa([12])[-_ ]?(train|test)$", re.I),
        lambda m: TextFileSpec("vqa", m[2].lower(), subset=f"sarvqa{m[1]}"),
    ),
)
TEXT_SUFFIXES = (".json", ".jsonl", ".csv")


def recognise_text_file(path: Path | str) -> TextFileSpec | None:
    """The task, split and subset of one of the authors' text files, from its name (None if not theirs)."""
    path = Path(path)
    if path.suffix.lower() not in TEXT_SUFFIXES:
        return None
    for pattern, spec in _FILE_NAMES:
        if m := pattern.match(path.stem):
            return spec(m)
    return None


def read_text_file(path: Path | str, task: str) -> Iterator[ReadResult]:
    """Every text of one file on disk (see `read_text_stream`)."""
    with open(path, "rb") as stream:
        yield from read_text_stream(stream, str(path), task)


def read_text_stream(stream: BinaryIO, name: str, task: str) -> Iterator[ReadResult]:
    """Every text of one file, or a problem per row that cannot be one. Streams: memory stays flat.

    `stream` is the file's bytes (a file on disk, an archive member); `name` is how errors name the file,
    and its suffix picks the reader.

    Text is read as UTF-8 (a BOM is dropped); invalid bytes survive as surrogates so that only the
    rows holding them are reported. A JSON Lines line longer than `streams.MAX_RECORD_CHARS` is a problem of
    its row; a CSV record or JSON list record that long, or a CSV field over ``csv.field_size_limit()``,
    stops the file (`RawTextError`): the reader could not tell where the next record starts.
    """
    suffix = Path(name).suffix.lower()
    if suffix not in TEXT_SUFFIXES:
        raise RawTextError(name, "", f"unsupported text format {suffix!r}; expected one of {TEXT_SUFFIXES}")
    with io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        first = first_character(handle)
        if not first:
            yield RowProblem(0, None, "empty_file", "the file holds no rows")
        elif suffix == ".csv":
            yield from read_csv(name, handle, task)
        elif first == "[" and suffix == ".json":
            yield from read_json_array(name, handle, task)
        elif first == "{" and suffix == ".json" and not _is_json_lines(handle):
            yield from read_json_document(name, handle, task)
        else:
            yield from read_jsonl(handle, task)


def _is_json_lines(handle: TextIO) -> bool:
    """Whether a .json file starting with an object holds one object per line (JSON Lines saved as .json).

    A first line too long or too deeply nested to parse is left to the JSON Lines reader, which reports it.
    """
    try:
        line = handle.readline(streams.MAX_RECORD_CHARS + 1)
        if len(line) > streams.MAX_RECORD_CHARS:
            return True
        first = json.loads(line)
        more = bool(first_character(handle, rewind=False))
    except json.JSONDecodeError:
        return False
    except RecursionError:
        return True
    finally:
        handle.seek(0)
    return more or not holds_one_list(first)
