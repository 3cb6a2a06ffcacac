"""What a synthetic release holds, counted while it is written, and the generator version it names.

`write_synthetic_release` returns a `SynthSummary`; SYNTHETIC.md (`readme`) prints the same counts, so
the two are defined together here, apart from the code that writes the files.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypedDict

from .. import schema

#: Bumped whenever the same call would write different bytes.
SYNTH_VERSION = "1.1"


class SynthCounts(TypedDict):
    """What was written, as `SynthSummary` and SYNTHETIC.md report it (fields as in `SynthSummary`)."""

    images: dict[str, dict[str, int]]
    unused_images: int
    captions: dict[str, dict[str, int]]
    questions: dict[str, dict[str, dict[str, int]]]
    others: dict[str, int]
    text_files: dict[str, int]


def total_images(images: dict[str, dict[str, int]]) -> int:
    """The images the texts use, over every source and split (``SynthCounts["images"]``)."""
    return sum(sum(s.values()) for s in images.values())


def total_texts(text_files: dict[str, int]) -> int:
    """The texts of every text file, each counted once, not once per CSV / JSON twin (``SynthCounts["text_files"]``)."""
    return sum(text_files.values())


@dataclass(frozen=True)
class SynthSummary:
    """What a synthetic release holds, counted while it was written."""

    root: Path
    seed: int
    version: str
    paper_scale: bool
    #: True when every image has its real pixel size (`real_sizes=True`)
    real_sizes: bool
    #: source -> split -> images the texts use
    images: dict[str, dict[str, int]]
    #: PNGs (and their GeoTIFFs) no text uses
    unused_images: int
    #: split -> caption style -> captions
    captions: dict[str, dict[str, int]]
    #: subset -> split -> application -> questions
    questions: dict[str, dict[str, dict[str, int]]]
    #: sub-type of `others` -> questions
    others: dict[str, int]
    #: text file (path without suffix) -> texts (each held by its CSV and its JSON)
    text_files: dict[str, int]
    files: int
    bytes: int
    seconds: float = field(compare=False)

    @property
    def total_images(self) -> int:
        return total_images(self.images)

    @property
    def total_texts(self) -> int:
        return total_texts(self.text_files)

    def applications(self) -> dict[str, int]:
        """Texts per application, captions included as `image_description`."""
        totals = Counter({"image_description": sum(sum(s.values()) for s in self.captions.values())})
        for splits in self.questions.values():
            for apps in splits.values():
                totals.update(apps)
        return {app: totals[app] for app in schema.APPLICATIONS}

    def to_dict(self) -> dict:
        data = asdict(self)
        data["root"] = str(self.root)
        data["total_images"], data["total_texts"] = self.total_images, self.total_texts
        data["applications"] = self.applications()
        return data
