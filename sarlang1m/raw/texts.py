"""Read the authors' text files: CSV (header or not) and LLaMA-Factory JSON / JSONL.

Nobody outside has published the exact CSV headers or which JSON variant the release uses, so the
reader detects them: CSV headers are matched against case-insensitive aliases (with a headerless
fallback when the first cell is an image reference), JSON records may use `messages` (role/content),
`conversations` (from/value), flat keys or Alpaca fields. Every row yields either a `RawText` or a
`RowProblem` that names the row: nothing is dropped silently.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TextIO

from .. import schema
from ..sources import IMAGE_EXTENSIONS, identify


class RawTextError(ValueError):
    """A text file that cannot be read at all (its whole content would be lost): names file and place."""

    def __init__(self, path: Path | str, where: str, message: str):
        self.path, self.where = str(path), where
        super().__init__(f"{path}: {where}: {message}" if where else f"{path}: {message}")


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


@dataclass(slots=True)
class RawText:
    """One text as read: the image it refers to, the question (VQA) and the answer or caption."""

    row: int
    turn: int
    image_ref: str
    question: str | None
    text: str
    style: str | None = None


@dataclass(slots=True)
class RowProblem:
    """A row (or JSON record / turn) that cannot become a text, and why."""

    row: int
    turn: int | None
    reason: str
    detail: str


ReadResult = RawText | RowProblem

# Header aliases, compared after lower-casing and removing spaces, dashes and underscores.
_IMAGE_KEYS = (
    "image",
    "images",
    "imagepath",
    "imagename",
    "imagefile",
    "imageid",
    "img",
    "imgpath",
    "imgname",
    "filename",
    "file",
    "path",
    "picture",
)
_QUESTION_KEYS = ("question", "questions", "query", "prompt", "instruction", "q")
_ANSWER_KEYS = ("answer", "answers", "response", "output", "a", "gt", "groundtruth", "label", "target")
_CAPTION_KEYS = ("caption", "captions", "text", "description", "sentence", "answer", "output", "response")
_STYLE_KEYS = ("style", "captionstyle", "captiontype", "type")


@lru_cache(maxsize=1024)
def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


def _fields_for(task: str) -> dict[str, tuple[str, ...]]:
    if task == "captions":
        return {"image": _IMAGE_KEYS, "text": _CAPTION_KEYS}
    return {"image": _IMAGE_KEYS, "question": _QUESTION_KEYS, "text": _ANSWER_KEYS}


def looks_like_image_ref(value: str) -> bool:
    value = value.strip()
    return value.lower().endswith(IMAGE_EXTENSIONS) or identify(value).source != "unknown"


def read_text_file(path: Path | str, task: str) -> Iterator[ReadResult]:
    """Every text of one file, or a problem per row that cannot be one. Streams: memory stays flat.

    Text is read as UTF-8 (a BOM is dropped); invalid bytes survive as surrogates so that only the
    rows holding them are reported.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES:
        raise RawTextError(path, "", f"unsupported text format {suffix!r}; expected one of {TEXT_SUFFIXES}")
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        first = _first_character(handle)
        if not first:
            yield RowProblem(0, None, "empty_file", "the file holds no rows")
        elif suffix == ".csv":
            yield from _read_csv(path, handle, task)
        elif first == "[" and suffix == ".json":
            yield from _read_json_array(path, handle, task)
        elif first == "{" and suffix == ".json" and not _is_json_lines(handle):
            yield from _read_json_document(path, handle, task)
        else:
            yield from _read_jsonl(handle, task)


def _first_character(handle: TextIO) -> str:
    """The first non-blank character ("" for a blank file); the handle is rewound."""
    while chunk := handle.read(4096):
        if stripped := chunk.lstrip():
            handle.seek(0)
            return stripped[0]
    handle.seek(0)
    return ""


def _is_json_lines(handle: TextIO) -> bool:
    """Whether a .json file starting with an object holds one object per line (JSON Lines saved as .json)."""
    try:
        first = json.loads(handle.readline())
        more = any(line.strip() for line in itertools.islice(handle, 100))
    except json.JSONDecodeError:
        return False
    finally:
        handle.seek(0)
    return more or not _holds_one_list(first)


def _holds_one_list(value: object) -> bool:
    return isinstance(value, dict) and sum(isinstance(v, list) for v in value.values()) == 1


def _invalid_utf8(*values: str | None) -> str | None:
    for value in values:
        if value is not None:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as err:
                bad = value[err.start : err.end].encode("utf-8", "surrogateescape")
                return f"invalid UTF-8 bytes {bad!r} in {value[: err.start][-30:]!r}..."
    return None


# ----------------------------------------------------------------------------------------- CSV


def _read_csv(path: Path, handle: TextIO, task: str) -> Iterator[ReadResult]:
    delimiter = _sniff_delimiter(handle.readline())
    handle.seek(0)
    reader = csv.reader(handle, delimiter=delimiter)
    fields = _fields_for(task)
    try:
        first = next(reader)
    except csv.Error as err:
        raise RawTextError(path, "line 1", f"malformed CSV: {err}") from err
    columns, style_column, has_header = _csv_columns(path, first, fields)
    needed = max(columns.values()) + 1
    rows = reader if has_header else _chain_first(first, reader)
    line = reader.line_num + 1 if has_header else 1
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as err:
            yield RowProblem(line, None, "malformed_row", f"malformed CSV: {err}")
            line = reader.line_num + 1
            continue
        start, line = line, reader.line_num + 1
        if not row or all(not cell.strip() for cell in row):
            continue  # a blank line is not a row
        if len(row) < needed or (not has_header and len(row) > needed):
            yield RowProblem(start, None, "malformed_row", f"{len(row)} fields, expected {needed}: {row[:6]!r}")
            continue
        values = {name: row[index].strip() for name, index in columns.items()}
        style = row[style_column].strip().lower() if style_column is not None and style_column < len(row) else None
        yield _text_or_problem(start, 0, values, style)


def _chain_first(first: list[str], rest: Iterator[list[str]]) -> Iterator[list[str]]:
    yield first
    yield from rest


def _sniff_delimiter(head: str) -> str:
    if "," in head:
        return ","
    for delimiter in ("\t", ";", "|"):
        if delimiter in head:
            return delimiter
    return ","


def _csv_columns(path: Path, first: list[str], fields: dict[str, tuple[str, ...]]):
    """Column index of each field, the style column, and whether `first` is a header."""
    keys = [_key(cell) for cell in first]
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
                "line 1",
                f"header {first!r} has no column for {missing}; accepted names for "
                + "; ".join(f"{m}: {', '.join(fields[m])}" for m in missing),
            )
        style = next((keys.index(k) for k in _STYLE_KEYS if k in keys), None)
        return columns, style, True
    if first and looks_like_image_ref(first[0]):
        return {name: index for index, name in enumerate(fields)}, None, False
    raise RawTextError(
        path,
        "line 1",
        f"unknown header {first[:8]!r}: expected columns named like "
        + "; ".join(f"{name}: {', '.join(aliases[:4])}..." for name, aliases in fields.items())
        + f", or no header with the columns in the order {list(fields)}",
    )


def _text_or_problem(row: int, turn: int, values: dict[str, str], style: str | None) -> ReadResult:
    if bad := _invalid_utf8(*values.values()):
        return RowProblem(row, turn, "invalid_utf8", bad)
    empty = [name for name, value in values.items() if not value]
    if empty:
        return RowProblem(row, turn, "empty_field", f"empty {', '.join(empty)}")
    if style not in schema.CAPTION_STYLES:
        style = None
    return RawText(row, turn, values["image"], values.get("question"), values["text"], style)


# ---------------------------------------------------------------------------------------- JSON

_IMAGE_TOKEN = re.compile(r"\s*<image>\s*")
_PROMPT = re.compile(r"^\s*question:\s*(?P<q>.*?)\s*\.?\s*answer the question concisely\.?\s*$", re.I | re.S)
_CLASS_PROMPT = re.compile(r"^\s*the classes are:[^.]*\.\s*", re.I)
_USER_ROLES = {"user", "human"}
_ASSISTANT_ROLES = {"assistant", "gpt", "model", "bot"}


def strip_prompt(question: str) -> str:
    """The bare question: without `<image>`, the paper's VQA prompt wrapper and a SARVQA1 class prompt."""
    question = _IMAGE_TOKEN.sub(" ", question).strip()
    if m := _PROMPT.match(question):
        question = m["q"].strip()
        if not question.endswith("?"):
            question += "?"
    return _CLASS_PROMPT.sub("", question).strip()


_JSON_CHUNK = 1 << 20
_JSON_BLANK = " \t\n\r"
_JSON_AFTER_ITEM = ",]" + _JSON_BLANK


def _read_json_array(path: Path, handle: TextIO, task: str) -> Iterator[ReadResult]:
    """Records of a top-level JSON list, decoded one at a time (the list of a 1M-text file never sits in memory)."""
    empty = True
    for index, record in enumerate(_json_array_items(path, handle), start=1):
        empty = False
        yield from _record_texts(index, record, task)
    if empty:
        yield RowProblem(0, None, "empty_file", "the JSON list holds no records")


def _json_array_items(path: Path, handle: TextIO) -> Iterator[object]:
    """Items of the JSON list in `handle`, parsed with the standard decoder over a sliding buffer."""
    decoder = json.JSONDecoder()
    buffer, position, at_end = "", 0, False
    dropped_lines, dropped_columns = 0, 0  # where the buffer starts in the file

    def more() -> bool:
        nonlocal buffer, at_end
        chunk = handle.read(_JSON_CHUNK)
        at_end = not chunk
        buffer += chunk
        return bool(chunk)

    def skip_blanks() -> str:
        nonlocal position
        while True:
            while position < len(buffer) and buffer[position] in _JSON_BLANK:
                position += 1
            if position < len(buffer):
                return buffer[position]
            if not more():
                return ""

    def fail(message: str, at: int | None = None) -> RawTextError:
        at = position if at is None else at
        newline = buffer.rfind("\n", 0, at)
        line = dropped_lines + buffer.count("\n", 0, at) + 1
        column = at - newline if newline >= 0 else dropped_columns + at + 1
        return RawTextError(path, f"line {line}, column {column}", f"malformed JSON: {message}")

    if skip_blanks() != "[":
        raise fail("expected a list")
    position += 1
    state = "first"  # first: an item or "]"; item: an item (after ","); separator: "," or "]"
    while True:
        character = skip_blanks()
        if character == "":
            raise fail("the list is not closed")
        if character == "]" and state != "item":
            position += 1
            if skip_blanks():
                raise fail("extra data after the list")
            return
        if state == "separator":
            if character != ",":
                raise fail("expected ',' or ']' between records")
            position, state = position + 1, "item"
            continue
        while True:
            try:
                item, end = decoder.raw_decode(buffer, position)
            except json.JSONDecodeError as error:
                if more():
                    continue  # the record runs past the buffer
                raise fail(error.msg, error.pos) from error
            if (end == len(buffer) or buffer[end] not in _JSON_AFTER_ITEM) and not at_end and more():
                continue  # an item must end at a separator: a number cut by the buffer ("0" of "0.5") goes on
            break
        position, state = end, "separator"
        yield item
        if position > _JSON_CHUNK:  # drop what was parsed
            parsed = buffer[:position]
            newlines = parsed.count("\n")
            dropped_lines += newlines
            dropped_columns = len(parsed) - parsed.rfind("\n") - 1 if newlines else dropped_columns + len(parsed)
            buffer, position = buffer[position:], 0


def _read_json_document(path: Path, handle: TextIO, task: str) -> Iterator[ReadResult]:
    """A JSON object holding one list of records (read whole: this form is not the authors')."""
    try:
        data = json.load(handle)
    except json.JSONDecodeError as err:
        raise RawTextError(path, f"line {err.lineno}, column {err.colno}", f"malformed JSON: {err.msg}") from err
    if not _holds_one_list(data):
        raise RawTextError(path, "", "expected a JSON list of records (or an object holding one list)")
    records = next(v for v in data.values() if isinstance(v, list))
    if not records:
        yield RowProblem(0, None, "empty_file", "the JSON list holds no records")
    for index, record in enumerate(records, start=1):
        yield from _record_texts(index, record, task)


def _read_jsonl(handle: TextIO, task: str) -> Iterator[ReadResult]:
    for line_number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            yield RowProblem(line_number, None, "malformed_record", f"malformed JSON: {err.msg}")
            continue
        yield from _record_texts(line_number, record, task)


def _record_texts(row: int, record: object, task: str) -> Iterator[ReadResult]:
    """The texts of one JSON record: one per user/assistant pair of a conversation."""
    if not isinstance(record, dict):
        yield RowProblem(row, None, "malformed_record", f"a record must be an object, got {type(record).__name__}")
        return
    image = _record_image(record)
    if isinstance(image, RowProblem):
        image.row = row
        yield image
        return
    turns = _record_turns(record, task)
    if isinstance(turns, str):
        yield RowProblem(row, None, "malformed_record", turns)
        return
    style = str(record.get("style", "")).strip().lower() or None
    for turn, (prompt, reply) in enumerate(turns):
        if reply is None:
            yield RowProblem(row, turn, "unpaired_turn", f"user turn without an answer: {prompt[:60]!r}")
            continue
        values = {"image": image, "text": reply.strip()}
        if task == "vqa":
            values = {"image": image, "question": strip_prompt(prompt), "text": reply.strip()}
        yield _text_or_problem(row, turn, values, style)


def _record_image(record: dict) -> str | RowProblem:
    for key in record:
        if _key(key) in _IMAGE_KEYS:
            value = record[key]
            if isinstance(value, list):
                if len(value) != 1 or not isinstance(value[0], str):
                    return RowProblem(0, None, "malformed_record", f"{key!r} must list exactly one image: {value!r}")
                value = value[0]
            if not isinstance(value, str) or not value.strip():
                return RowProblem(0, None, "malformed_record", f"{key!r} is not an image path: {value!r}")
            return value.strip()
    return RowProblem(0, None, "malformed_record", f"no image key (one of images, image, ...) in {sorted(record)}")


def _record_turns(record: dict, task: str) -> list[tuple[str, str | None]] | str:
    """(prompt, reply) pairs from messages / conversations / flat / Alpaca records, or what is wrong."""
    for key, role_key, text_key in (("messages", "role", "content"), ("conversations", "from", "value")):
        if key in record:
            return _pair_turns(record[key], role_key, text_key, key)
    keys = {_key(k): k for k in record}
    if task == "vqa":
        question = next((record[keys[k]] for k in _QUESTION_KEYS if k in keys), None)
        answer = next((record[keys[k]] for k in _ANSWER_KEYS if k in keys), None)
        if isinstance(question, str) and isinstance(answer, str):
            extra = record.get("input")  # Alpaca records may split the question into instruction + input
            if isinstance(extra, str) and extra.strip():
                question = f"{question} {extra}"
            return [(question, answer)]
    else:
        caption = next((record[keys[k]] for k in _CAPTION_KEYS if k in keys), None)
        if isinstance(caption, str):
            return [("", caption)]
    return f"no messages, conversations or {task} fields in {sorted(record)}"


def _pair_turns(turns: object, role_key: str, text_key: str, name: str) -> list[tuple[str, str | None]] | str:
    if not isinstance(turns, list) or not turns:
        return f"{name!r} must be a non-empty list"
    pairs: list[tuple[str, str | None]] = []
    for position, turn in enumerate(turns):
        if not isinstance(turn, dict) or not isinstance(turn.get(text_key), str):
            return f"{name}[{position}] must be an object with a string {text_key!r}"
        role = str(turn.get(role_key, "")).lower()
        if role in _USER_ROLES:
            if pairs and pairs[-1][1] is None:
                pairs[-1] = (pairs[-1][0] + "\n" + turn[text_key], None)
            else:
                pairs.append((turn[text_key], None))
        elif role in _ASSISTANT_ROLES:
            if not pairs or pairs[-1][1] is not None:
                return f"{name}[{position}]: an assistant turn without a question before it"
            pairs[-1] = (pairs[-1][0], turn[text_key])
        elif role != "system":
            return f"{name}[{position}]: unknown {role_key} {turn.get(role_key)!r}"
    return pairs
