"""A text file read in bounded pieces: lines of bounded length, and a JSON list decoded item by item.

The authors' largest file is one JSON list of about 120 MB; `json.load` would hold it as about 1 GB of
Python objects, and one malformed line of a CSV or JSON Lines file could otherwise be read whole into
memory. These readers know nothing about texts: they hand the text readers one record at a time and
stop at `MAX_RECORD_CHARS`, so the memory a file can take is bounded whatever it holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from .text_rows import RawTextError

#: Longest CSV record, JSON Lines line or JSON list record read, in characters: far beyond any real text,
#: it bounds the memory one malformed file can take (the csv module bounds each CSV field further, to
#: ``csv.field_size_limit()``).
MAX_RECORD_CHARS = 1 << 24


def first_character(handle: TextIO, *, rewind: bool = True) -> str:
    """The first non-blank character from the handle's position ("" if none); the handle is rewound."""
    found = ""
    while chunk := handle.read(4096):
        if stripped := chunk.lstrip():
            found = stripped[0]
            break
    if rewind:
        handle.seek(0)
    return found


class RecordTooLong(Exception):
    """A record longer than `MAX_RECORD_CHARS`; its lines were consumed."""

    def __init__(self, line: int):
        super().__init__(f"longer than {MAX_RECORD_CHARS} characters")
        self.line = line


class BoundedLines:
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

    def __iter__(self) -> BoundedLines:
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
            raise RecordTooLong(self.number)
        return line


_JSON_CHUNK = 1 << 20
_JSON_NOT_BLANK = re.compile(r"[^ \t\n\r]")
#: What may follow a number that the end of the buffer cut ("0" of "0.5", "1" of "1e3").
_JSON_NUMBER_TAIL = re.compile(r"[0-9.eE+\-]*")
#: A decode error this close to the end of the buffer may come from a token the buffer cut ("tru" of
#: "true", "-Infinit", "\\ud83d\\ude0"): more is read and the record parsed again. Further back it is an
#: error of the file, reported at once instead of reading the rest of the file in search of a fix.
_JSON_CUT_MARGIN = 32


def json_array_items(path: Path | str, handle: TextIO) -> Iterator[object]:
    """Items of the JSON list in `handle`, parsed with the standard decoder over a sliding buffer.

    The buffer holds the record being parsed: a record longer than a read makes the next read as long
    as what is pending (a record of n characters is parsed O(log n) times, not O(n / chunk)); blanks
    and parsed records are dropped as the buffer moves on.
    """
    return _JsonListReader(path, handle).items()


class _JsonListReader:
    """The sliding buffer of `json_array_items`, and where it starts in the file (for error places)."""

    def __init__(self, path: Path | str, handle: TextIO):
        self.path, self.handle = path, handle
        self.decoder = json.JSONDecoder()
        self.buffer, self.position, self.at_end = "", 0, False
        self.dropped_lines, self.dropped_columns = 0, 0  # where the buffer starts in the file

    def items(self) -> Iterator[object]:
        """The list's items, checking its brackets and commas between them."""
        if self.skip_blanks() != "[":
            raise self.fail("expected a list")
        self.position += 1
        state = "first"  # first: an item or "]"; item: an item (after ","); separator: "," or "]"
        while True:
            character = self.skip_blanks()
            if character == "":
                raise self.fail("the list is not closed")
            if character == "]" and state != "item":
                self.position += 1
                if self.skip_blanks():
                    raise self.fail("extra data after the list")
                return
            if state == "separator":
                if character != ",":
                    raise self.fail("expected ',' or ']' between records")
                self.position, state = self.position + 1, "item"
                continue
            item, end = self.decode_item()
            self.position, state = end, "separator"
            yield item
            if self.position > _JSON_CHUNK:
                self.drop_parsed()

    def decode_item(self) -> tuple[object, int]:
        """The item at `position` and where it ends, reading on while the buffer may have cut it."""
        while True:
            try:
                item, end = self.decoder.raw_decode(self.buffer, self.position)
            except json.JSONDecodeError as error:
                unterminated = error.msg.startswith("Unterminated string")
                cut = unterminated or error.pos >= len(self.buffer) - _JSON_CUT_MARGIN
                if cut and not self.at_end and self.read_on():
                    continue  # the record runs past the buffer
                raise self.fail(error.msg, error.pos) from error
            except RecursionError as error:
                raise self.fail("a record nested too deeply") from error
            if not self.at_end and _JSON_NUMBER_TAIL.fullmatch(self.buffer, end) and self.read_on():
                continue  # a number the buffer may have cut goes on
            return item, end

    def more(self) -> bool:
        chunk = self.handle.read(max(_JSON_CHUNK, len(self.buffer) - self.position))
        self.at_end = not chunk
        self.buffer += chunk
        return bool(chunk)

    def drop_parsed(self) -> None:
        parsed = self.buffer[: self.position]
        newlines = parsed.count("\n")
        self.dropped_lines += newlines
        if newlines:
            self.dropped_columns = len(parsed) - parsed.rfind("\n") - 1
        else:
            self.dropped_columns += len(parsed)
        self.buffer, self.position = self.buffer[self.position :], 0

    def skip_blanks(self) -> str:
        while True:
            if found := _JSON_NOT_BLANK.search(self.buffer, self.position):
                self.position = found.start()
                return self.buffer[self.position]
            self.position = len(self.buffer)
            self.drop_parsed()
            if not self.more():
                return ""

    def fail(self, message: str, at: int | None = None) -> RawTextError:
        at = self.position if at is None else at
        newline = self.buffer.rfind("\n", 0, at)
        line = self.dropped_lines + self.buffer.count("\n", 0, at) + 1
        column = at - newline if newline >= 0 else self.dropped_columns + at + 1
        return RawTextError(self.path, f"line {line}, column {column}", f"malformed JSON: {message}")

    def read_on(self) -> bool:
        """More of a record that runs past the buffer, unless the record is already too long."""
        if len(self.buffer) - self.position > MAX_RECORD_CHARS:
            raise self.fail(f"a record longer than {MAX_RECORD_CHARS} characters")
        return self.more()
