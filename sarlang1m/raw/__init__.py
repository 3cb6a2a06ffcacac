"""1. The authors' raw release: where its files are, and how to read its texts.

`files` presents the inputs as one tree of files, whether a folder or zip archives hold them; `layout`
finds the text files, images and originals in it, and `sardet` the SARDet-100K root. `texts` recognises
a text file by its name and hands it to `csv_texts` or `json_texts`, which read it in bounded pieces
(`streams`) and turn each row into a `RawText` or a `RowProblem` (`text_rows`). `classify` derives what
the files do not store: application, sub-type, answer type, box and caption style.
"""

from .classify import answer_type, caption_style, classify_question, normalize_answer, parse_bbox
from .files import RawFile, RawFiles, RawReleaseError, open_raw
from .layout import RawLayout, TextFile, find_layout, open_layout
from .sardet import SardetRoot, find_sardet
from .texts import (
    RawText,
    RawTextError,
    RowProblem,
    TextFileSpec,
    read_text_file,
    read_text_stream,
    recognise_text_file,
    strip_prompt,
)

__all__ = [
    "RawFile",
    "RawFiles",
    "RawLayout",
    "RawReleaseError",
    "RawText",
    "RawTextError",
    "RowProblem",
    "SardetRoot",
    "TextFile",
    "TextFileSpec",
    "answer_type",
    "caption_style",
    "classify_question",
    "find_layout",
    "find_sardet",
    "normalize_answer",
    "open_layout",
    "open_raw",
    "parse_bbox",
    "read_text_file",
    "read_text_stream",
    "recognise_text_file",
    "strip_prompt",
]
