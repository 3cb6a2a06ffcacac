"""What reading a text file yields, row by row: a `RawText`, or a `RowProblem` that names the row.

The CSV and the JSON readers differ in how they find a row, not in what a row must hold: both match
field names against the same case-insensitive aliases, reject the same empty or undecodable values and
bound the same way what a detail quotes from the file. That shared part lives here, so the two readers
cannot drift apart in what they accept.
"""

from __future__ import annotations

import re
import reprlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .. import schema
from ..errors import InputError
from ..sources import IMAGE_EXTENSIONS, identify


class RawTextError(InputError):
    """A text file that cannot be read at all (its whole content would be lost): names file and place."""

    def __init__(self, path: Path | str, where: str, message: str):
        self.path, self.where = str(path), where
        super().__init__(f"{path}: {where}: {message}" if where else f"{path}: {message}")


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
IMAGE_KEYS = (
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
QUESTION_KEYS = ("question", "questions", "query", "prompt", "instruction", "q")
ANSWER_KEYS = ("answer", "answers", "response", "output", "a", "gt", "groundtruth", "label", "target")
CAPTION_KEYS = ("caption", "captions", "text", "description", "sentence", "answer", "output", "response")
STYLE_KEYS = ("style", "captionstyle", "captiontype", "type")


@lru_cache(maxsize=1024)
def field_key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


def fields_for(task: str) -> dict[str, tuple[str, ...]]:
    if task == "captions":
        return {"image": IMAGE_KEYS, "text": CAPTION_KEYS}
    return {"image": IMAGE_KEYS, "question": QUESTION_KEYS, "text": ANSWER_KEYS}


def looks_like_image_ref(value: str) -> bool:
    value = value.strip()
    return value.lower().endswith(IMAGE_EXTENSIONS) or identify(value).source != "unknown"


def invalid_utf8(*values: str | None) -> str | None:
    for value in values:
        if value is not None:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as err:
                bad = value[err.start : err.end].encode("utf-8", "surrogateescape")
                return f"invalid UTF-8 bytes {bad!r} in {value[: err.start][-30:]!r}..."
    return None


def text_or_problem(row: int, turn: int, values: dict[str, str], style: str | None) -> ReadResult:
    if bad := invalid_utf8(*values.values()):
        return RowProblem(row, turn, "invalid_utf8", bad)
    empty = [name for name, value in values.items() if not value]
    if empty:
        return RowProblem(row, turn, "empty_field", f"empty {', '.join(empty)}")
    if style not in schema.CAPTION_STYLES:
        style = None
    return RawText(row, turn, values["image"], values.get("question"), values["text"], style)


_SHORT = reprlib.Repr()
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlevel = 80, 80, 3


def short(value: object) -> str:
    """A bounded repr of a value read from a file, for a detail: the value may be huge or deeply nested."""
    return _SHORT.repr(value)
