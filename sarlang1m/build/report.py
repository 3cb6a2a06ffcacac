"""The build report: every input text row is either in the release or listed here with its reason."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InputError
from ..messages import option_hint

#: Why a text row is not in the release. Every skipped row carries one of these.
SKIP_REASONS: dict[str, str] = {
    "empty_file": "the file holds no rows",
    "malformed_row": "a CSV row with the wrong number of fields",
    "malformed_record": "a JSON record without the expected keys or shape",
    "empty_field": "an empty image reference, question, answer or caption",
    "invalid_utf8": "bytes that are not valid UTF-8",
    "unpaired_turn": "a user turn with no assistant answer after it",
    "duplicate": "the same text of the same image was already read",
    "missing_image": f"the image is in none of the image folders (skipped with {option_hint('allow_missing')})",
    "unreadable_image": f"the image file cannot be decoded (skipped with {option_hint('allow_missing')})",
}


class MissingImagesError(InputError, FileNotFoundError):
    """Texts refer to images that are missing or unreadable; lists the first ones."""

    def __init__(self, kind: str, images: list[tuple[str, str]], total: int, texts: int):
        self.images, self.total, self.texts = images, total, texts
        shown = "\n".join(f"  {name}: {detail}" for name, detail in images)
        super().__init__(
            f"{total} referenced image(s) {kind}, used by {texts} text(s); the first ones:\n{shown}\n"
            f"Add the images (SARDet-100K goes under {option_hint('sardet_root', 'DIR')}), or pass "
            f"{option_hint('allow_missing')} to build without them: each skipped text is then listed in the "
            "build report."
        )


@dataclass
class FileAccount:
    """What became of the rows of one input text file."""

    path: str
    format: str
    task: str
    split: str
    subset: str | None
    style: str | None
    sha256: str
    bytes: int
    rows: int = 0
    used: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    twins_not_read: list[str] = field(default_factory=list)

    def balanced(self) -> bool:
        return self.rows == self.used + sum(self.skipped.values())
