"""Read the authors' text files: CSV (header or not) and LLaMA-Factory JSON / JSONL.

Nobody outside has published the exact CSV headers or which JSON variant the release uses, so the
reader detects them: CSV headers are matched against case-insensitive aliases (with a headerless
fallback when the first cell is an image reference), JSON records may use `messages` (role/content),
`conversations` (from/value), flat keys or Alpaca fields. Every row yields either a `RawText` or a
`RowProblem` that names the row: nothing is dropped silently.
"""

from __future__ import annotations

import csv
import json
import re
import reprlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TextIO

from .. import schema
from ..errors import InputError
from ..sources import IMAGE_EXTENSIONS, identify


class RawTextError(InputError):
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


#: Longest CSV record, JSON Lines line or JSON list record read, in characters: far beyond any real text,
#: it bounds the memory one malformed file can take (the csv module bounds each CSV field further, to
#: ``csv.field_size_limit()``).
MAX_RECORD_CHARS = 1 << 24


def read_text_file(path: Path | str, task: str) -> Iterator[ReadResult]:
    """Every text of one file, or a problem per row that cannot be one. Streams: memory stays flat.

    Text is read as UTF-8 (a BOM is dropped); invalid bytes survive as surrogates so that only the
    rows holding them are reported. A JSON Lines line longer than `MAX_RECORD_CHARS` is a problem of
    its row; a CSV record or JSON list record that long, or a CSV field over ``csv.field_size_limit()``,
    stops the file (`RawTextError`): the reader could not tell where the next record starts.
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


def _first_character(handle: TextIO, *, rewind: bool = True) -> str:
    """The first non-blank character from the handle's position ("" if none); the handle is rewound."""
    found = ""
    while chunk := handle.read(4096):
        if stripped := chunk.lstrip():
            found = stripped[0]
            break
    if rewind:
        handle.seek(0)
    return found


def _is_json_lines(handle: TextIO) -> bool:
    """Whether a .json file starting with an object holds one object per line (JSON Lines saved as .json).

    A first line too long or too deeply nested to parse is left to the JSON Lines reader, which reports it.
    """
    try:
        line = handle.readline(MAX_RECORD_CHARS + 1)
        if len(line) > MAX_RECORD_CHARS:
            return True
        first = json.loads(line)
        more = bool(_first_character(handle, rewind=False))
    except json.JSONDecodeError:
        return False
    except RecursionError:
        return True
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


class _RecordTooLong(Exception):
    """A record longer than `MAX_RECORD_CHARS`; its lines were consumed."""

    def __init__(self, line: int):
        super().__init__(f"longer than {MAX_RECORD_CHARS} characters")
        self.line = line


class _BoundedLines:
    """Lines of a handle for csv.reader, counting them and refusing a record over `MAX_RECORD_CHARS`.

    A line is read at most `MAX_RECORD_CHARS` + 2 characters at a time, so no line of a malformed file
    sits whole in memory; csv.reader's own line count stops at such a line, this one does not.
    """

    def __init__(self, handle: TextIO):
        self.handle = handle
        self.number = 0  # lines read so far
        self.record_chars = 0  # characters read since `start_record`

    def start_record(self) -> None:
        self.record_chars = 0

    def __iter__(self) -> _BoundedLines:
        return self

    def __next__(self) -> str:
        line = self.handle.readline(MAX_RECORD_CHARS + 2)
        if not line:
            raise StopIteration
        self.number += 1
        self.record_chars += len(line)
        if self.record_chars > MAX_RECORD_CHARS:
            while line and not line.endswith(("\n", "\r")):  # skip the rest of the line, a piece at a time
                line = self.handle.readline(1 << 16)
            raise _RecordTooLong(self.number)
        return line


def _read_csv(path: Path, handle: TextIO, task: str) -> Iterator[ReadResult]:
    lines = _BoundedLines(handle)
    delimiter = _sniff_delimiter(path, lines)
    handle.seek(0)
    lines = _BoundedLines(handle)
    reader = csv.reader(lines, delimiter=delimiter)
    fields = _fields_for(task)
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
        except _RecordTooLong as err:
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
            detail = f"{len(row)} fields, expected {needed}: {_short(row)}"
            yield RowProblem(start, None, "malformed_row", detail)
            continue
        values = {name: row[index].strip() for name, index in columns.items()}
        style = row[style_column].strip().lower() if style_column is not None and style_column < len(row) else None
        yield _text_or_problem(start, 0, values, style)


def _sniff_delimiter(path: Path, lines: _BoundedLines) -> str:
    """The delimiter of the first non-blank line: a comma if it has one, else a tab, semicolon or bar."""
    head = ""
    try:
        while not head.strip():
            lines.start_record()
            if not (head := next(lines, "")):
                break
    except _RecordTooLong as err:
        raise RawTextError(path, f"line {err.line}", f"a CSV record {err}") from err
    if "," in head:
        return ","
    for delimiter in ("\t", ";", "|"):
        if delimiter in head:
            return delimiter
    return ","


def _csv_columns(
    path: Path, line: int, first: list[str], fields: dict[str, tuple[str, ...]]
) -> tuple[dict[str, int], int | None, bool]:
    """Column index of each field, the style column, and whether `first` (on `line`) is a header.

    A first cell naming an image makes a data row, even if another cell reads like a column name (an
    answer "A" is the alias "a"): no column name looks like an image file.
    """
    if first and looks_like_image_ref(first[0]):
        return {name: index for index, name in enumerate(fields)}, None, False
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
                f"line {line}",
                f"header {_short(first)} has no column for {missing}; accepted names for "
                + "; ".join(f"{m}: {', '.join(fields[m])}" for m in missing),
            )
        style = next((keys.index(k) for k in _STYLE_KEYS if k in keys), None)
        return columns, style, True
    raise RawTextError(
        path,
        f"line {line}",
        f"unknown header {_short(first)}: expected columns named like "
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

# Literal ends and one greedy gap: the former `\s*(?P<q>.*?)\s*\.?\s*` took O(n^4) steps on a long run of
# spaces (400 spaces: seconds); the spaces and the dot around the question are now stripped in Python.
_PROMPT = re.compile(r"question:(?P<q>.*)answer the question concisely\.?", re.I | re.S)
_CLASS_PROMPT = re.compile(r"^\s*the classes are:[^.]*\.\s*", re.I)
_USER_ROLES = {"user", "human"}
_ASSISTANT_ROLES = {"assistant", "gpt", "model", "bot"}


def strip_prompt(question: str) -> str:
    """The bare question: without `<image>`, the paper's VQA prompt wrapper and a SARVQA1 class prompt."""
    # Each `<image>` and the blanks around it become one space (str methods: a regex took O(n^2) on blanks).
    parts = question.split(schema.IMAGE_TOKEN)
    if len(parts) > 1:
        parts = [parts[0].rstrip(), *(part.strip() for part in parts[1:-1]), parts[-1].lstrip()]
    question = " ".join(parts).strip()
    if m := _PROMPT.fullmatch(question):
        question = m["q"].strip()
        question = question[:-1].rstrip() if question.endswith(".") else question
        if not question.endswith("?"):
            question += "?"
    return _CLASS_PROMPT.sub("", question).strip()


_JSON_CHUNK = 1 << 20
_JSON_BLANK = " \t\n\r"
_JSON_NOT_BLANK = re.compile(r"[^ \t\n\r]")
#: What may follow a number that the end of the buffer cut ("0" of "0.5", "1" of "1e3").
_JSON_NUMBER_TAIL = re.compile(r"[0-9.eE+\-]*")
#: A decode error this close to the end of the buffer may come from a token the buffer cut ("tru" of
#: "true", "-Infinit", "\\ud83d\\ude0"): more is read and the record parsed again. Further back it is an
#: error of the file, reported at once instead of reading the rest of the file in search of a fix.
_JSON_CUT_MARGIN = 32


def _read_json_array(path: Path, handle: TextIO, task: str) -> Iterator[ReadResult]:
    """Records of a top-level JSON list, decoded one at a time (the list of a 1M-text file never sits in memory)."""
    empty = True
    for index, record in enumerate(_json_array_items(path, handle), start=1):
        empty = False
        yield from _record_texts(index, record, task)
    if empty:
        yield RowProblem(0, None, "empty_file", "the JSON list holds no records")


def _json_array_items(path: Path, handle: TextIO) -> Iterator[object]:
    """Items of the JSON list in `handle`, parsed with the standard decoder over a sliding buffer.

    The buffer holds the record being parsed: a record longer than a read makes the next read as long
    as what is pending (a record of n characters is parsed O(log n) times, not O(n / chunk)); blanks
    and parsed records are dropped as the buffer moves on.
    """
    decoder = json.JSONDecoder()
    buffer, position, at_end = "", 0, False
    dropped_lines, dropped_columns = 0, 0  # where the buffer starts in the file

    def more() -> bool:
        nonlocal buffer, at_end
        chunk = handle.read(max(_JSON_CHUNK, len(buffer) - position))
        at_end = not chunk
        buffer += chunk
        return bool(chunk)

    def drop_parsed() -> None:
        nonlocal buffer, position, dropped_lines, dropped_columns
        parsed = buffer[:position]
        newlines = parsed.count("\n")
        dropped_lines += newlines
        dropped_columns = len(parsed) - parsed.rfind("\n") - 1 if newlines else dropped_columns + len(parsed)
        buffer, position = buffer[position:], 0

    def skip_blanks() -> str:
        nonlocal position
        while True:
            if found := _JSON_NOT_BLANK.search(buffer, position):
                position = found.start()
                return buffer[position]
            position = len(buffer)
            drop_parsed()
            if not more():
                return ""

    def fail(message: str, at: int | None = None) -> RawTextError:
        at = position if at is None else at
        newline = buffer.rfind("\n", 0, at)
        line = dropped_lines + buffer.count("\n", 0, at) + 1
        column = at - newline if newline >= 0 else dropped_columns + at + 1
        return RawTextError(path, f"line {line}, column {column}", f"malformed JSON: {message}")

    def read_on() -> bool:
        """More of a record that runs past the buffer, unless the record is already too long."""
        if len(buffer) - position > MAX_RECORD_CHARS:
            raise fail(f"a record longer than {MAX_RECORD_CHARS} characters")
        return more()

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
                unterminated = error.msg.startswith("Unterminated string")
                cut = unterminated or error.pos >= len(buffer) - _JSON_CUT_MARGIN
                if cut and not at_end and read_on():
                    continue  # the record runs past the buffer
                raise fail(error.msg, error.pos) from error
            except RecursionError as error:
                raise fail("a record nested too deeply") from error
            if not at_end and _JSON_NUMBER_TAIL.fullmatch(buffer, end) and read_on():
                continue  # a number the buffer may have cut goes on
            break
        position, state = end, "separator"
        yield item
        if position > _JSON_CHUNK:
            drop_parsed()


def _read_json_document(path: Path, handle: TextIO, task: str) -> Iterator[ReadResult]:
    """A JSON object holding one list of records (read whole: this form is not the authors')."""
    try:
        data = json.load(handle)
    except json.JSONDecodeError as err:
        raise RawTextError(path, f"line {err.lineno}, column {err.colno}", f"malformed JSON: {err.msg}") from err
    except RecursionError as err:
        raise RawTextError(path, "", "malformed JSON: nested too deeply") from err
    if not _holds_one_list(data):
        raise RawTextError(path, "", "expected a JSON list of records (or an object holding one list)")
    records = next(v for v in data.values() if isinstance(v, list))
    if not records:
        yield RowProblem(0, None, "empty_file", "the JSON list holds no records")
    for index, record in enumerate(records, start=1):
        yield from _record_texts(index, record, task)


def _read_jsonl(handle: TextIO, task: str) -> Iterator[ReadResult]:
    lines = _BoundedLines(handle)
    while True:
        lines.start_record()
        try:
            line = next(lines)
        except StopIteration:
            return
        except _RecordTooLong as err:
            yield RowProblem(err.line, None, "malformed_record", f"a line {err}")
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            yield RowProblem(lines.number, None, "malformed_record", f"malformed JSON: {err.msg}")
            continue
        except RecursionError:
            yield RowProblem(lines.number, None, "malformed_record", "malformed JSON: nested too deeply")
            continue
        yield from _record_texts(lines.number, record, task)


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
    style = record.get("style")
    style = (style.strip().lower() or None) if isinstance(style, str) else None
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
                    detail = f"{_short(key)} must list exactly one image: {_short(value)}"
                    return RowProblem(0, None, "malformed_record", detail)
                value = value[0]
            if not isinstance(value, str) or not value.strip():
                detail = f"{_short(key)} is not an image path: {_short(value)}"
                return RowProblem(0, None, "malformed_record", detail)
            return value.strip()
    detail = f"no image key (one of images, image, ...) in {_short(sorted(record))}"
    return RowProblem(0, None, "malformed_record", detail)


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
    return f"no messages, conversations or {task} fields in {_short(sorted(record))}"


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
            return f"{name}[{position}]: unknown {role_key} {_short(turn.get(role_key))}"
    if not pairs:
        return f"{name!r} holds no user turn"
    return pairs


_SHORT = reprlib.Repr()
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlevel = 80, 80, 3


def _short(value: object) -> str:
    """A bounded repr of a value read from a file, for a detail: the value may be huge or deeply nested."""
    return _SHORT.repr(value)
