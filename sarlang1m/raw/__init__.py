"""The authors' raw release: where its files are, and how to read its texts."""

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
