"""The text files of a synthetic release: every image's questions and captions, its COCO entry and labels.

The same texts go to several outputs at once (the CSV and JSON twins of a text file, the ground-truth
labels, SARDet-100K's COCO annotations) and are tallied for the summary while they are written, so
`TextSink` keeps all of them open for the whole run. Each image's texts are seeded by (seed, image
index) alone.
"""

from __future__ import annotations

import random
from pathlib import Path

from .. import schema
from .captions import captions
from .catalog import Catalog, ImageRecord, seed_key
from .layout import (
    SARDET_FOLDERS,
    SARDET_ROOT,
    TEXT_FILES,
    CocoWriter,
    LabelsWriter,
    TextFileStyle,
    TextFileWriter,
    caption_file_key,
    marker,
)
from .plan import SARDET
from .questions import questions
from .summary import SYNTH_VERSION


class TextSink:
    """All text outputs of a release, and the tallies the summary reports."""

    def __init__(self, root: Path, seed: int, text_files: dict[tuple[str, str, str], TextFileStyle] = TEXT_FILES):
        self.seed = seed
        self.files = {key: TextFileWriter(root, style) for key, style in text_files.items()}
        self.labels = LabelsWriter(root)
        description = marker(seed, SYNTH_VERSION)
        self.coco = {
            split: CocoWriter(root / SARDET_ROOT / "Annotations" / f"{folder}.json", description)
            for split, folder in SARDET_FOLDERS.items()
        }
        self.captions = {split: dict.fromkeys(schema.CAPTION_STYLES, 0) for split in schema.SPLITS}
        self.questions = {
            subset: {split: dict.fromkeys(schema.VQA_APPLICATIONS, 0) for split in schema.SPLITS}
            for subset in schema.SUBSETS
        }
        self.others = dict.fromkeys(schema.OTHERS_SUBTYPES, 0)

    def write_image(self, catalog: Catalog, record: ImageRecord) -> int:
        """Every text of one image (and its COCO entry); returns how many texts."""
        rng = random.Random(seed_key(self.seed, "texts", record.index))
        scene = record.scene(self.seed)
        subset, split = record.subset, record.split
        if record.source == SARDET:
            self.coco[split].add(record, [(t.category, t.box) for t in scene.targets])
        made = questions(scene, subset, catalog.questions[record.index], rng)
        self._write(self.files[(subset, split, "")], record, made, rng)
        for text in made:
            self.questions[subset][split][text.application] += 1
            if text.subtype:
                self.others[text.subtype] += 1
        total = len(made)
        if subset == "sarvqa2":
            caps = captions(
                scene, record.place, int(catalog.concise[record.index]), int(catalog.detailed[record.index]), rng
            )
            for style in schema.CAPTION_STYLES if split != "train" else ("",):
                chosen = [c for c in caps if style in ("", c.style)]
                self._write(self.files[caption_file_key(split, style)], record, chosen, rng)
            for caption in caps:
                self.captions[split][caption.style] += 1
            total += len(caps)
        return total

    def _write(self, writer: TextFileWriter, record: ImageRecord, texts: list, rng: random.Random) -> None:
        if texts:
            self.labels.write(writer.style, record, texts, writer.write(record, texts, rng))

    def close(self) -> None:
        for writer in self.files.values():
            writer.close()
        for coco in self.coco.values():
            coco.close()
        self.labels.close()
