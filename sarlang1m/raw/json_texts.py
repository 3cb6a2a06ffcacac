"""LLaMA-Factory JSON and JSON Lines text files: each record becomes its texts, or a problem that names it.

Nobody outside has published which JSON variant the authors' release uses, so a record may hold
`messages` (role/content), `conversations` (from/value), flat keys or Alpaca fields; a conversation
yields one text per user/assistant pair, with the paper's prompt wrapper stripped from the question.
A top-level list is decoded one record at a time (`streams.json_array_items`); JSON Lines line by line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from .. import schema
from .streams import BoundedLines, RecordTooLong, json_array_items
from .text_rows import (
    ANSWER_KEYS,
    CAPTION_KEYS,
    IMAGE_KEYS,
    QUESTION_KEYS,
    RawTextError,
    ReadResult,
    RowProblem,
    field_key,
    short,
    text_or_problem,
)

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


def read_json_array(path: Path | str, handle: TextIO, task: str) -> Iterator[ReadResult]:
    """Records of a top-level JSON list, decoded one at a time (the list of a 1M-text file never sits in memory)."""
    empty = True
    for index, record in enumerate(json_array_items(path, handle), start=1):
        empty = False
        yield from _record_texts(index, record, task)
    if empty:
        yield RowProblem(0, None, "empty_file", "the JSON list holds no records")


def read_json_document(path: Path | str, handle: TextIO, task: str) -> Iterator[ReadResult]:
    """A JSON object holding one list of records (read whole: this form is not the authors')."""
    try:
        data = json.load(handle)
    except json.JSONDecodeError as err:
        raise RawTextError(path, f"line {err.lineno}, column {err.colno}", f"malformed JSON: {err.msg}") from err
    except RecursionError as err:
        raise RawTextError(path, "", "malformed JSON: nested too deeply") from err
    if not holds_one_list(data):
        raise RawTextError(path, "", "expected a JSON list of records (or an object holding one list)")
    records = next(v for v in data.values() if isinstance(v, list))
    if not records:
        yield RowProblem(0, None, "empty_file", "the JSON list holds no records")
    for index, record in enumerate(records, start=1):
        yield from _record_texts(index, record, task)


def read_jsonl(handle: TextIO, task: str) -> Iterator[ReadResult]:
    lines = BoundedLines(handle)
    while True:
        lines.start_record()
        try:
            line = next(lines)
        except StopIteration:
            return
        except RecordTooLong as err:
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
        yield text_or_problem(row, turn, values, style)


def _record_image(record: dict) -> str | RowProblem:
    for key in record:
        if field_key(key) in IMAGE_KEYS:
            value = record[key]
            if isinstance(value, list):
                if len(value) != 1 or not isinstance(value[0], str):
                    detail = f"{short(key)} must list exactly one image: {short(value)}"
                    return RowProblem(0, None, "malformed_record", detail)
                value = value[0]
            if not isinstance(value, str) or not value.strip():
                detail = f"{short(key)} is not an image path: {short(value)}"
                return RowProblem(0, None, "malformed_record", detail)
            return value.strip()
    detail = f"no image key (one of images, image, ...) in {short(sorted(record))}"
    return RowProblem(0, None, "malformed_record", detail)


def _record_turns(record: dict, task: str) -> list[tuple[str, str | None]] | str:
    """(prompt, reply) pairs from messages / conversations / flat / Alpaca records, or what is wrong."""
    for key, role_key, text_key in (("messages", "role", "content"), ("conversations", "from", "value")):
        if key in record:
            return _pair_turns(record[key], role_key, text_key, key)
    keys = {field_key(k): k for k in record}
    if task == "vqa":
        question = next((record[keys[k]] for k in QUESTION_KEYS if k in keys), None)
        answer = next((record[keys[k]] for k in ANSWER_KEYS if k in keys), None)
        if isinstance(question, str) and isinstance(answer, str):
            extra = record.get("input")  # Alpaca records may split the question into instruction + input
            if isinstance(extra, str) and extra.strip():
                question = f"{question} {extra}"
            return [(question, answer)]
    else:
        caption = next((record[keys[k]] for k in CAPTION_KEYS if k in keys), None)
        if isinstance(caption, str):
            return [("", caption)]
    return f"no messages, conversations or {task} fields in {short(sorted(record))}"


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
            return f"{name}[{position}]: unknown {role_key} {short(turn.get(role_key))}"
    if not pairs:
        return f"{name!r} holds no user turn"
    return pairs


def holds_one_list(value: object) -> bool:
    return isinstance(value, dict) and sum(isinstance(v, list) for v in value.values()) == 1
