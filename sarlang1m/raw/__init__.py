"""1. The authors' raw release: where its files are, and how to read its texts.

`layout` finds the text files, images and originals on disk. `texts` recognises a text file by its
name and hands it to `csv_texts` or `json_texts`, which read it in bounded pieces (`streams`) and turn
each row into a `RawText` or a `RowProblem` (`text_rows`). `classify` derives what the files do not
store: application, sub-type, answer type, box and caption style.
"""

from .classify import answer_type, caption_style, classify_question, normalize_answer, parse_bbox
from .layout import RawLayout, RawReleaseError, TextFile, find_layout
from .texts import RawText, RawTextError, RowProblem, TextFileSpec, read_text_file, recognise_text_file, strip_prompt

__all__ = [
    "RawLayout",
    "RawReleaseError",
    "RawText",
    "RawTextError",
    "RowProblem",
    "TextFile",
    "TextFileSpec",
    "answer_type",
    "caption_style",
    "classify_question",
    "find_layout",
    "normalize_answer",
    "parse_bbox",
    "read_text_file",
    "recognise_text_file",
    "strip_prompt",
]
